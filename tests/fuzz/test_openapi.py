"""Schemathesis against the service's own OpenAPI schema: no input may cause a server error.

Every operation gets a bounded number of generated requests with each kind of credential
(operator, coordinator, volunteer), against the real app and PostGIS; the counts are written to
`artifacts/schemathesis.json` for the record.
"""

from __future__ import annotations

import collections
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from responders.api import create_app
from responders.settings import Settings
from tests.conftest import ARTIFACTS
from tests.live import bound_socket, serving

EXAMPLES = 12
# These end the caller's credential, so each of their examples gets a volunteer of its own.
_SPENDS_TOKEN = {("DELETE", "/responders/me"), ("POST", "/responders/me/logout")}
_seen: collections.Counter[str] = collections.Counter()
_errors: list[str] = []


@pytest.fixture(scope="module")
def live_api(
    settings: Settings,
    helsinki_router: Any,
    database_url: str,
) -> Iterator[dict[str, str]]:
    app = create_app(settings, router=helsinki_router)
    sock, url = bound_socket()
    with serving(app, sock):
        yield {
            "url": url,
            "operator": _operator(settings, "operator"),
            "coordinator": _operator(settings, "coordinator"),
            "volunteer": _volunteer_token(url),
        }
    _write_summary()


def _operator(settings: Settings, role: str) -> str:
    import asyncio

    from responders.db.gateway import Database
    from responders.registry.operators import create_operator

    async def make() -> str:
        db = await Database.open(settings.db)
        try:
            return (await create_operator(db, f"fuzz {role}", role)).token
        finally:
            await db.close()

    return asyncio.run(make())


def _volunteer_token(url: str) -> str:
    """A fresh volunteer."""
    body = {
        "name": "Fuzz",
        "phone": "+358401234567",
        "email": f"fuzz-{len(_seen)}-{sum(_seen.values())}@example.org",
        "qualifications": [{"kind": "cpr_aed", "expires_on": "2031-01-01"}],
        "places": [{"kind": "home", "location": {"lat": 60.17, "lon": 24.94}}],
    }
    response = httpx.post(f"{url}/responders", json=body, timeout=10)
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


def _operations(url: str) -> list[Any]:
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"the schema has an operation it cannot test: {result}"
        # A live event stream never ends; its parameters are covered by GET /incidents/{id}.
        if not result.ok().path.endswith("/events"):
            operations.append(result.ok())
    return operations


# Every route with every kind of credential: a caller's own routes get their inputs
# explored, the others must refuse cleanly (issue 12: coordinators' routes had 500s).
ROLES = ("operator", "coordinator", "volunteer")


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("role", ROLES)
def test_no_input_causes_a_server_error(
    live_api: dict[str, str], role: str, mode: GenerationMode
) -> None:
    failures = []
    for operation in _operations(live_api["url"]):
        try:
            _fuzz(operation, mode, live_api, role)
        except AssertionError as exc:
            failures.append(str(exc))
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE  # nothing invalid to send (GET /health)
    assert not failures, failures


def _fuzz(operation: Any, mode: GenerationMode, live_api: dict[str, str], role: str) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def call(case: Any) -> None:
        _call(case, operation, live_api, role)

    call()


def _call(case: Any, operation: Any, live_api: dict[str, str], role: str) -> None:
    path, method = operation.path, operation.method.upper()
    token = live_api[role]
    if role == "volunteer" and (method, path) in _SPENDS_TOKEN:
        token = _volunteer_token(live_api["url"])
    headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
    response = case.call(base_url=live_api["url"], headers=headers, timeout=30)
    label = f"{role} {method} {path}"
    _seen[label] += 1
    if response.status_code >= 500:
        _errors.append(f"{label} -> {response.status_code}: {response.text[:200]}")
    assert response.status_code < 500, f"{label}: {response.status_code} {response.text[:300]}"


def _write_summary() -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    summary = {
        "examples": sum(_seen.values()),
        "operations": len(_seen),
        "per_operation": dict(sorted(_seen.items())),
        "server_errors": _errors,
    }
    (ARTIFACTS / "schemathesis.json").write_text(json.dumps(summary, indent=1))
