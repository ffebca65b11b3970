"""The authorization matrix: every route and every kind of caller gets the right answer.

Callers: nobody, a citizen (anonymous, no token), a bogus token, revoked credentials of
either kind, the volunteer who owns the resource, another volunteer, an operator and a
coordinator. A valid credential of the wrong kind is 403 naming who the route is for
(signing in again would not help); no, unknown or revoked credentials are 401. Destructive
calls go last in each row, by the owner, so every caller meets the same world.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from responders.registry.operators import create_operator, revoke_operator
from tests.helpers import alerted, place_volunteer, report

CALLERS = (
    "nobody",
    "bogus",
    "revoked_volunteer",
    "revoked_operator",
    "other_volunteer",
    "operator",
    "coordinator",
    "owner",
)
INCIDENT = (60.1735, 24.9445)
_emails = itertools.count()

# Status per caller; "2xx" accepts any success. Unlisted callers expect `default`. A 403
# must name `route_for`, the kind of caller the route is for.
VOLUNTEERS_NOT_OPERATORS = {"operator": 403, "coordinator": 403, "route_for": "volunteer"}
OPERATORS_NOT_VOLUNTEERS = {"owner": 403, "other_volunteer": 403}
OWN = {"owner": "2xx", "other_volunteer": "2xx", "default": 401, **VOLUNTEERS_NOT_OPERATORS}
OWN_ALERT = {"owner": "2xx", "other_volunteer": 404, "default": 401, **VOLUNTEERS_NOT_OPERATORS}
OPERATORS = {
    "operator": "2xx",
    "coordinator": "2xx",
    "default": 401,
    "route_for": "operator",
    **OPERATORS_NOT_VOLUNTEERS,
}
COORDINATORS = {
    "coordinator": "2xx",
    "operator": 403,
    "default": 401,
    "route_for": "coordinator",
    **OPERATORS_NOT_VOLUNTEERS,
}
ANYONE = {"default": "2xx"}
ROUTE = {
    "operator": "2xx",
    "coordinator": "2xx",
    "owner": "2xx",
    "other_volunteer": "2xx",
    "default": 401,
}

REVERSE_GEOCODE = {**ROUTE, "nobody": "2xx"}


@dataclass
class World:
    owner: dict[str, str]
    other: dict[str, str]
    operator: dict[str, str]
    coordinator: dict[str, str]
    revoked_volunteer: dict[str, str]
    revoked_operator: dict[str, str]
    incident: int
    triage: int
    alert: int
    aed: int
    status_token: str  # the triage report's status link
    device: int = 0  # the owner's phone (issue 15: remove a device)

    def headers(self, caller: str) -> dict[str, str]:
        return {
            "nobody": {},
            "bogus": {"Authorization": "Bearer ehbo_rs_not-a-real-token"},
            "owner": self.owner,
            "other_volunteer": self.other,
            "operator": self.operator,
            "coordinator": self.coordinator,
            "revoked_volunteer": self.revoked_volunteer,
            "revoked_operator": self.revoked_operator,
        }[caller]


def _volunteer_body() -> dict[str, Any]:
    return {
        "name": "Matrix",
        "phone": "+358401112222",
        "email": f"m{next(_emails)}@example.org",
        "qualifications": [{"kind": "cpr_aed", "expires_on": "2031-01-01"}],
    }


def _device_body() -> dict[str, Any]:
    # A device of each caller's own: one that another volunteer holds is a 409 conflict.
    return {"fcm_token": f"matrix-token-{next(_emails)}", "platform": "android"}


def _aed_body() -> dict[str, Any]:
    return {"location": {"lat": 60.1740, "lon": 24.9440}, "access": "public"}


CSV = b"lat,lon,access,external_ref\n60.1741,24.9441,public,matrix-1\n"
# (method, path template, request kwargs, expectations)
MATRIX: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    ("GET", "/health", {}, ANYONE),
    ("GET", "/states", {}, ANYONE),
    ("GET", "/push/key", {}, ANYONE),
    ("POST", "/responders", {"json": _volunteer_body}, {"default": 201}),
    ("GET", "/responders/me", {}, OWN),
    ("PATCH", "/responders/me", {"json": {"name": "Renamed"}}, OWN),
    (
        "PUT",
        "/responders/me/location",
        {"json": {"lat": 60.174, "lon": 24.9445, "accuracy_m": 8}},
        OWN,
    ),
    ("DELETE", "/responders/me/location", {}, OWN),  # issue 15: stop sharing
    ("PUT", "/responders/me/availability", {"json": {"status": "active"}}, OWN),
    (
        "POST",
        "/responders/me/devices",
        {"json": _device_body},
        OWN,
    ),
    ("GET", "/responders/me/export", {}, OWN),
    ("GET", "/alerts", {}, OWN),
    ("GET", "/alerts/{alert}", {}, OWN_ALERT),
    ("POST", "/alerts/{alert}/delivered", {}, OWN_ALERT),
    ("POST", "/alerts/{alert}/accept", {}, OWN_ALERT),
    # Authorised, but arriving before accepting is a lifecycle conflict.
    ("POST", "/alerts/{alert}/arrived", {}, {**OWN_ALERT, "owner": 409}),
    ("POST", "/alerts/{alert}/decline", {}, OWN_ALERT),
    (
        "POST",
        "/incidents",
        {"json": {"kind": "bleeding", "location": {"lat": INCIDENT[0], "lon": INCIDENT[1]}}},
        OPERATORS,
    ),
    ("GET", "/incidents", {}, OPERATORS),
    ("GET", "/incidents/{incident}", {}, OPERATORS),
    ("POST", "/incidents/{triage}/confirm", {}, OPERATORS),
    ("PATCH", "/incidents/{incident}", {"json": {"notes": "Second floor"}}, OPERATORS),
    ("POST", "/incidents/{incident}/close", {"json": {"reason": "patient_fine"}}, OPERATORS),
    ("POST", "/incidents/{triage}/cancel", {"json": {"reason": "duplicate"}}, OPERATORS),
    (
        "POST",
        "/reports",
        {"json": {"kind": "other", "location": {"lat": INCIDENT[0], "lon": INCIDENT[1]}}},
        {"default": 201},
    ),
    # Anyone holding the report's status link (a header, whatever else is sent).
    ("GET", "/reports/status", {"headers": {"X-Report-Token": "{status_token}"}}, ANYONE),
    ("GET", "/reports/status/aed", {"headers": {"X-Report-Token": "{status_token}"}}, ANYONE),
    ("GET", "/aeds", {}, OPERATORS),
    ("POST", "/aeds", {"json": _aed_body}, COORDINATORS),
    ("PATCH", "/aeds/{aed}", {"json": {"status": "out"}}, COORDINATORS),
    ("POST", "/aeds/import", {"files": {"file": ("aeds.csv", CSV, "text/csv")}}, COORDINATORS),
    ("GET", "/route", {"params": {"from": "60.1744,24.9445", "to": "60.1735,24.9445"}}, ROUTE),
    ("GET", "/geocode", {"params": {"q": "Aleksanterinkatu 52"}}, ROUTE),
    # Anonymous too (the citizen page; rate-limited), but a token sent must be valid.
    ("GET", "/geocode/reverse", {"params": {"lat": 60.1684, "lon": 24.942}}, REVERSE_GEOCODE),
    ("POST", "/responders/me/logout", {}, OWN),
    ("DELETE", "/responders/me/devices/{device}", {}, OWN_ALERT),
    ("DELETE", "/responders/me", {}, OWN),
]
# The live event stream is checked apart (it never ends for an allowed caller).
STREAMS = {("GET", "/incidents/{incident_id}/events")}


async def _revoked_operator(app: FastAPI) -> dict[str, str]:
    gone = await create_operator(app.state.db, "gone", "coordinator")
    await revoke_operator(app.state.db, gone.id)
    return {"Authorization": f"Bearer {gone.token}"}


@pytest.fixture
async def world(
    client: httpx.AsyncClient,
    app: FastAPI,
    operator_headers: dict[str, str],
    coordinator_headers: dict[str, str],
) -> World:
    owner_id, owner = await place_volunteer(client, 60.1744, 24.9445)
    _, other = await place_volunteer(client, 60.1700, 24.9400, live=False)
    _, signed_out = await place_volunteer(client, 60.1710, 24.9420, live=False)
    assert (await client.post("/responders/me/logout", headers=signed_out)).status_code == 204
    incident = await report(client, operator_headers, *INCIDENT)
    triaged = (
        await client.post(
            "/reports", json={"kind": "other", "location": {"lat": INCIDENT[0], "lon": INCIDENT[1]}}
        )
    ).json()
    triage = triaged["id"]
    aed = (await client.post("/aeds", json=_aed_body(), headers=coordinator_headers)).json()["id"]
    return World(
        owner,
        other,
        operator_headers,
        coordinator_headers,
        signed_out,
        await _revoked_operator(app),
        incident["id"],
        triage,
        alerted(incident)[owner_id]["id"],
        aed,
        triaged["status_token"],
        device=(await client.get("/responders/me", headers=owner)).json()["devices"][0]["id"],
    )


def _request(
    world: World, method: str, template: str, options: dict[str, Any]
) -> tuple[str, str, dict[str, Any]]:
    path = template.format(
        alert=world.alert,
        incident=world.incident,
        triage=world.triage,
        aed=world.aed,
        device=world.device,
    )
    kwargs = {k: v() if callable(v) else v for k, v in options.items()}
    if "headers" in kwargs:
        kwargs["headers"] = {
            name: value.format(status_token=world.status_token)
            for name, value in kwargs["headers"].items()
        }
    return method, path, kwargs


@pytest.mark.parametrize(
    ("method", "template", "options", "expected"), MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX]
)
async def test_route_answers_each_caller_rightly(
    client: httpx.AsyncClient,
    world: World,
    method: str,
    template: str,
    options: dict[str, Any],
    expected: dict[str, Any],
) -> None:
    wrong = []
    for caller in CALLERS:
        verb, path, kwargs = _request(world, method, template, options)
        headers = {**world.headers(caller), **kwargs.pop("headers", {})}
        response = await client.request(verb, path, headers=headers, **kwargs)
        want = expected.get(caller, expected["default"])
        ok = 200 <= response.status_code < 300 if want == "2xx" else response.status_code == want
        if ok and want == 403:
            ok = response.json().get("route_for") == expected["route_for"]
        if not ok:
            wrong.append(f"{caller}: {response.status_code} (want {want}) {response.text[:160]}")
    assert not wrong, wrong


async def test_matrix_covers_every_route(app: FastAPI) -> None:
    schema = app.openapi()
    routes = {(m.upper(), p) for p, item in schema["paths"].items() for m in item}
    covered = {
        (
            m,
            p.replace("{alert}", "{alert_id}")
            .replace("{incident}", "{incident_id}")
            .replace("{triage}", "{incident_id}")
            .replace("{aed}", "{aed_id}")
            .replace("{device}", "{device_id}"),
        )
        for m, p, _, _ in MATRIX
    } | STREAMS
    assert routes == covered, routes ^ covered


async def test_event_stream_refuses_all_but_operators(
    client: httpx.AsyncClient, world: World
) -> None:
    path = f"/incidents/{world.incident}/events"
    for caller in ("nobody", "bogus", "revoked_operator", "revoked_volunteer"):
        response = await client.get(path, headers=world.headers(caller))
        assert response.status_code == 401, caller
    for caller in ("owner", "other_volunteer"):
        response = await client.get(path, headers=world.headers(caller))
        assert response.status_code == 403, caller
        assert response.json()["code"] == "wrong_caller"
        assert response.json()["route_for"] == "operator"
