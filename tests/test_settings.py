"""Every setting does something (issue 12 #22): each field of each settings group is read
somewhere in the service, and the ones that were dead now change behaviour."""

from __future__ import annotations

import ast
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from pydantic_settings import BaseSettings
from sqlalchemy.ext.asyncio import AsyncEngine

from responders import settings as settings_module
from responders.settings import RoutingSettings, Settings

ROOT = Path(__file__).resolve().parents[1]


def _groups() -> list[type[BaseSettings]]:
    found = [getattr(settings_module, name) for name in settings_module.__all__]
    return [c for c in found if isinstance(c, type) and issubclass(c, BaseSettings)]


def _attributes_read() -> set[str]:
    """Every `x.name` in the service's code outside settings.py. `routing/` knows nothing of
    the service's settings (the service passes values in), so the reads are all here."""
    names: set[str] = set()
    for path in (ROOT / "responders").rglob("*.py"):
        if path == ROOT / "responders" / "settings.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Attribute):
                names.add(node.attr)
    return names


def test_every_setting_is_read_somewhere() -> None:
    read = _attributes_read()
    groups = _groups()
    assert {g.__name__ for g in groups} >= {"RoutingSettings", "PushSettings", "Settings"}
    unused = [
        f"{group.__name__}.{field}"
        for group in groups
        for field in group.model_fields
        if field not in read
    ]
    assert unused == [], f"settings that nothing reads: {unused}"


HARBOUR = {"lat": 60.163, "lon": 24.956}  # water, 215 m from the nearest street


@pytest_asyncio.fixture(loop_scope="session")
async def app_with_snap_limit(
    settings: Settings,
    clean_db: AsyncEngine,
    request: pytest.FixtureRequest,
) -> AsyncIterator[FastAPI]:
    from responders.api import create_app

    routing = RoutingSettings(cache_dir=settings.routing.cache_dir, snap_limit_m=request.param)
    # No shared graph: the app loads its own from its settings, as `ehbo serve` does.
    application = create_app(settings.model_copy(update={"routing": routing}))
    async with application.router.lifespan_context(application):
        yield application


@pytest.mark.parametrize(
    ("app_with_snap_limit", "status"), [(150, 422), (300, 201)], indirect=["app_with_snap_limit"]
)
async def test_snap_limit_decides_what_is_accepted(
    app_with_snap_limit: FastAPI, status: int
) -> None:
    """EHBO_ROUTING_SNAP_LIMIT_M was never passed to the router: every app snapped within
    the routing package's own 300 m, whatever the setting said."""
    assert (
        app_with_snap_limit.state.router.snap_limit_m
        == app_with_snap_limit.state.settings.routing.snap_limit_m
    )
    transport = httpx.ASGITransport(app=app_with_snap_limit)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.post("/reports", json={"kind": "unconscious", "location": HARBOUR})
    assert response.status_code == status, response.text


def test_routing_settings_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EHBO_ROUTING_SNAP_LIMIT_M", "75")
    monkeypatch.setenv("EHBO_ROUTING_ROUTE_THREADS", "2")
    assert Settings().routing.snap_limit_m == 75
    assert Settings().routing.route_threads == 2
