"""Credentials: no token → 401; a volunteer cannot touch another; roles are enforced; a
valid token of the wrong kind is 403; a revoked one ends even an open event stream."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from responders.api import create_app
from responders.db.gateway import Database
from responders.registry.operators import create_operator, revoke_operator
from responders.settings import Settings
from tests.api.test_responders import register
from tests.helpers import report
from tests.live import bound_socket, serving

VOLUNTEER_ROUTES = [
    ("GET", "/responders/me", None),
    ("PATCH", "/responders/me", {"name": "X"}),
    ("DELETE", "/responders/me", None),
    ("PUT", "/responders/me/location", {"lat": 60.17, "lon": 24.94, "accuracy_m": 5}),
    ("PUT", "/responders/me/availability", {"status": "active"}),
    ("POST", "/responders/me/devices", {"fcm_token": "t", "platform": "android"}),
]
OPERATOR_ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/aeds", None),
    ("POST", "/aeds", {}),
]


@pytest.mark.parametrize(("method", "path", "body"), VOLUNTEER_ROUTES + OPERATOR_ROUTES)
async def test_no_token_is_401(
    client: httpx.AsyncClient, method: str, path: str, body: dict[str, Any] | None
) -> None:
    response = await client.request(method, path, json=body)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_volunteer_only_ever_sees_and_changes_themself(client: httpx.AsyncClient) -> None:
    aino, aino_headers = await register(client)
    eero, eero_headers = await register(client, name="Eero", email="eero@example.org", device=None)
    assert (await client.get("/responders/me", headers=eero_headers)).json()["id"] == eero["id"]
    await client.patch("/responders/me", headers=eero_headers, json={"name": "Eero M"})
    assert (await client.get("/responders/me", headers=aino_headers)).json()[
        "name"
    ] == "Aino Virtanen"
    # There is no route that takes another volunteer's id.
    assert (await client.get(f"/responders/{aino['id']}", headers=eero_headers)).status_code in (
        404,
        405,
    )


async def test_volunteer_token_on_an_operator_route_is_403_naming_operators(
    client: httpx.AsyncClient,
) -> None:
    _, headers = await register(client)
    response = await client.get("/aeds", headers=headers)
    assert response.status_code == 403, "a 401 would tell the app to sign in again"
    body = response.json()
    assert (body["code"], body["route_for"], body["given"]) == (
        "wrong_caller",
        "operator",
        "volunteer",
    )
    assert "WWW-Authenticate" not in response.headers
    coordinators = await client.post("/aeds", headers=headers, json={})
    assert (coordinators.status_code, coordinators.json()["route_for"]) == (403, "coordinator")


async def test_operator_token_on_a_volunteer_route_is_403_naming_volunteers(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    for method, path, body in VOLUNTEER_ROUTES:
        response = await client.request(method, path, headers=operator_headers, json=body)
        assert response.status_code == 403, (path, response.text)
        assert response.json()["route_for"] == "volunteer", path
    # Still signed in: the refusals changed nothing.
    assert (await client.get("/aeds", headers=operator_headers)).status_code == 200


async def test_revoked_tokens_of_either_kind_stay_401(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    _, volunteer = await register(client)
    assert (await client.post("/responders/me/logout", headers=volunteer)).status_code == 204
    operator = await create_operator(app.state.db, "leaver", "operator")
    await revoke_operator(app.state.db, operator.id)
    for headers, path in (
        (volunteer, "/aeds"),
        (volunteer, "/responders/me"),
        ({"Authorization": f"Bearer {operator.token}"}, "/responders/me"),
        ({"Authorization": f"Bearer {operator.token}"}, "/aeds"),
    ):
        response = await client.get(path, headers=headers)
        assert response.status_code == 401, (path, response.text)


async def test_the_right_kind_of_token_costs_one_lookup(
    client: httpx.AsyncClient,
    operator_headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only a failed lookup may look at the other kind of caller."""
    _, volunteer = await register(client)
    lookups: list[str] = []
    real = Database.tuples

    async def counted(db: Database, sql: Any, params: Any = None, **kw: Any) -> Any:
        if "token_hash" in sql:  # a credential lookup (the rest of these requests reads rows)
            lookups.append("operators" if "FROM operators" in sql else "responder_tokens")
        return await real(db, sql, params, **kw)

    monkeypatch.setattr(Database, "tuples", counted)
    route = {"from": "60.1744,24.9445", "to": "60.1735,24.9445"}
    for headers, path, params, kinds in (
        (operator_headers, "/aeds", {}, ["operators"]),
        (volunteer, "/responders/me", {}, ["responder_tokens"]),
        (volunteer, "/route", route, ["responder_tokens"]),
        (operator_headers, "/route", route, ["operators"]),
        (volunteer, "/aeds", {}, ["operators", "responder_tokens"]),
    ):
        lookups.clear()
        response = await client.get(path, headers=headers, params=params)
        assert response.status_code in (200, 403), response.text
        assert lookups == kinds, (path, lookups)


async def test_a_revoked_operator_s_event_stream_ends_within_seconds(
    client: httpx.AsyncClient,
    app: FastAPI,
    settings: Settings,
    helsinki_router: Any,
) -> None:
    """`ehbo operators revoke` (the same registry call) ends an open live feed at once."""
    operator = await create_operator(app.state.db, "watcher", "operator")
    headers = {"Authorization": f"Bearer {operator.token}"}
    incident = await report(client, headers, 60.1735, 24.9445)
    sock, url = bound_socket()
    with serving(create_app(settings, router=helsinki_router), sock):
        async with (
            httpx.AsyncClient(base_url=url, timeout=20) as http,
            http.stream("GET", f"/incidents/{incident['id']}/events", headers=headers) as feed,
        ):
            assert feed.status_code == 200
            chunks = feed.aiter_text()
            seen = ""
            while "event: reported" not in seen:  # the feed is live and delivering
                seen += await asyncio.wait_for(anext(chunks), 10)
            await revoke_operator(app.state.db, operator.id)
            revoked = time.monotonic()
            with pytest.raises(StopAsyncIteration):
                while True:
                    await asyncio.wait_for(anext(chunks), 10)
            assert time.monotonic() - revoked < 5.0, "within seconds of the revocation"
        # Reconnecting is refused as any request with the token would be.
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            again = await http.get(f"/incidents/{incident['id']}/events", headers=headers)
        assert again.status_code == 401


async def test_a_stream_s_credential_watch_sees_logout_and_erasure(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """No volunteer stream exists yet; the watch any stream holds serves them too."""
    from responders.api.streams import CredentialWatch

    db = app.state.db
    watches: list[tuple[CredentialWatch, dict[str, str]]] = []
    for _ in range(2):
        _, headers = await register(client, email=f"w{len(watches)}@example.org", device=None)
        token = headers["Authorization"].split()[1]
        watches.append((CredentialWatch(db, token, "volunteer", every_s=0), headers))
    assert all([await w.still_valid() for w, _ in watches])
    (logged_out, logged_out_headers), (erased, erased_headers) = watches
    await client.post("/responders/me/logout", headers=logged_out_headers)
    await client.delete("/responders/me", headers=erased_headers)
    assert not await logged_out.still_valid()
    assert not await erased.still_valid()
