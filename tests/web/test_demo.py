"""The demo stays usable while people try it (issue 12 #25): its incidents end themselves,
a restart gives every demo volunteer a fresh day (nobody busy, nobody capped, history
kept), and `.demo/credentials.json` names each volunteer beside its token."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from responders.api import create_app
from responders.db.gateway import Database
from responders.demo import Address, attach_webpush, load_demo, write_credentials
from responders.demo_tokens import volunteer_token
from responders.demo_upkeep import DEMO_DOMAIN, close_old_incidents, fresh_day
from responders.settings import Settings
from tests.web.conftest import CENTRE, FUTURE

_numbers = itertools.count()


async def _volunteer(
    client: httpx.AsyncClient, lat: float, lon: float, *, demo: bool = True
) -> tuple[int, dict[str, str]]:
    number = next(_numbers)
    domain = DEMO_DOMAIN if demo else "example.org"
    response = await client.post(
        "/responders",
        json={
            "name": f"Demo volunteer {number}",
            "phone": "+358 40 000 0000",
            "email": f"demo-test{number}@{domain}",
            "qualifications": [{"kind": "cpr_aed", "expires_on": FUTURE}],
            "device": {"fcm_token": f"demo-test-{number}", "platform": "android"},
        },
    )
    assert response.status_code == 201, response.text
    headers = {"Authorization": f"Bearer {response.json()['token']}"}
    located = await client.put(
        "/responders/me/location", headers=headers, json={"lat": lat, "lon": lon, "accuracy_m": 10}
    )
    assert located.status_code == 204, located.text
    return response.json()["responder"]["id"], headers


async def _report(client: httpx.AsyncClient, operator: dict[str, str]) -> dict[str, Any]:
    response = await client.post(
        "/incidents",
        headers=operator,
        json={"kind": "cardiac_arrest", "location": {"lat": CENTRE[0], "lon": CENTRE[1]}},
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _incident(
    client: httpx.AsyncClient, operator: dict[str, str], incident_id: int
) -> dict[str, Any]:
    response = await client.get(f"/incidents/{incident_id}", headers=operator)
    assert response.status_code == 200, response.text
    return response.json()


async def test_old_demo_incidents_end_as_an_operator_would_end_them(
    app: FastAPI, client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    first, first_headers = await _volunteer(client, CENTRE[0] + 0.001, CENTRE[1])
    second, _ = await _volunteer(client, CENTRE[0], CENTRE[1] + 0.001)
    incident = await _report(client, operator_headers)
    alerts = {a["responder_id"]: a for a in incident["alerts"]}
    assert set(alerts) == {first, second}
    accepted = await client.post(f"/alerts/{alerts[first]['id']}/accept", headers=first_headers)
    assert accepted.status_code == 200, accepted.text
    citizen = await client.post(
        "/reports",
        json={"kind": "unconscious", "location": {"lat": CENTRE[0], "lon": CENTRE[1]}},
    )
    assert citizen.status_code in (200, 201, 202), citizen.text
    db: Database = app.state.db
    context = app.state.dispatch_context

    # Younger than the age: nothing ends.
    assert await close_old_incidents(db, context, 3600) == []
    assert (await _incident(client, operator_headers, incident["id"]))["status"] == "active"

    ended = await close_old_incidents(db, context, 0.001)
    assert sorted(ended) == sorted([incident["id"], citizen.json()["id"]])
    closed = await _incident(client, operator_headers, incident["id"])
    assert closed["status"] == "closed"
    assert (await _incident(client, operator_headers, citizen.json()["id"]))["status"] == (
        "cancelled"
    )
    # The stand-down goes out as for an operator's close, and the timeline says who ended it.
    assert {a["status"] for a in closed["alerts"]} == {"stood_down"}
    assert {a["stand_down_reason"] for a in closed["alerts"]} == {"closed"}
    kinds = [e["kind"] for e in closed["timeline"]]
    assert kinds.index("demo_ended") < kinds.index("closed")
    demo_ended = next(e for e in closed["timeline"] if e["kind"] == "demo_ended")
    assert demo_ended["detail"]["reason"] == "age"
    async with db.connection() as conn:
        stand_downs = set(
            await conn.column("SELECT alert_id FROM outbox WHERE kind = 'stand_down'")
        )
    assert alerts[first]["id"] in stand_downs
    # Ended once: a second round finds nothing, and the volunteers are free again.
    assert await close_old_incidents(db, context, 0.001) == []
    again = await _report(client, operator_headers)
    assert {a["responder_id"] for a in again["alerts"]} == {first, second}


async def test_a_demo_restart_gives_demo_volunteers_a_fresh_day(
    app: FastAPI, client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    cap = app.state.settings.dispatch.daily_alert_cap
    demo_id, _ = await _volunteer(client, CENTRE[0] + 0.001, CENTRE[1])
    other_id, _ = await _volunteer(client, CENTRE[0], CENTRE[1] + 0.001, demo=False)
    for _ in range(cap):
        incident = await _report(client, operator_headers)
        assert {a["responder_id"] for a in incident["alerts"]} == {demo_id, other_id}
        closed = await client.post(
            f"/incidents/{incident['id']}/close",
            headers=operator_headers,
            json={"reason": "ems_took_over"},
        )
        assert closed.status_code == 200, closed.text
    # Both capped now; one more incident stays open, as a demo run may leave it.
    left_open = await _report(client, operator_headers)
    assert left_open["alerts"] == []
    history = await app.state.db.rows("SELECT id, created_at FROM alerts ORDER BY id")

    ended = await fresh_day(app.state.db, app.state.dispatch_context)

    assert ended == [left_open["id"]]
    ended_detail = await _incident(client, operator_headers, left_open["id"])
    assert ended_detail["status"] == "closed"
    assert [e["detail"] for e in ended_detail["timeline"] if e["kind"] == "demo_ended"] == [
        {"reason": "restart", "after_s": 0}
    ]
    # The demo volunteer can be alerted again; the other volunteer's cap is untouched.
    fresh = await _report(client, operator_headers)
    assert {a["responder_id"] for a in fresh["alerts"]} == {demo_id}
    # And history is as it happened: no alert deleted or moved in time.
    after = await app.state.db.rows("SELECT id, created_at FROM alerts ORDER BY id")
    assert after[: len(history)] == history


@pytest_asyncio.fixture(loop_scope="session")
async def demo_app(
    settings: Settings, helsinki_router: Any, clean_db: AsyncEngine, tmp_path: Path
) -> AsyncIterator[FastAPI]:
    """An app as `ehbo demo` runs it, with demo incidents ending after half a second."""
    configured = settings.model_copy(
        update={
            "api": settings.api.model_copy(
                update={
                    "demo_credentials": tmp_path / "credentials.json",
                    "demo_incident_max_age_s": 0.5,
                }
            )
        }
    )
    application = create_app(configured, router=helsinki_router)
    async with application.router.lifespan_context(application):
        yield application


async def test_the_demo_ends_its_incidents_by_itself(
    demo_app: FastAPI, operator_headers: dict[str, str]
) -> None:
    transport = httpx.ASGITransport(app=demo_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
        volunteer, _ = await _volunteer(client, CENTRE[0] + 0.001, CENTRE[1])
        incident = await _report(client, operator_headers)
        assert [a["responder_id"] for a in incident["alerts"]] == [volunteer]
        for _ in range(100):
            detail = await _incident(client, operator_headers, incident["id"])
            if detail["status"] == "closed":
                break
            await asyncio.sleep(0.1)
        assert detail["status"] == "closed"
        assert detail["alerts"][0]["status"] == "stood_down"


async def test_credentials_name_each_volunteer_beside_its_token(
    app: FastAPI, tmp_path: Path
) -> None:
    spots = [
        Address(CENTRE[0] + dlat, CENTRE[1] + dlon, f"Testikatu {n}")
        for n, (dlat, dlon) in enumerate([(0.001, 0.0), (0.0, 0.001), (-0.001, 0.0)])
    ]
    path = tmp_path / ".demo" / "credentials.json"
    first = await load_demo(app.state.db, spots, volunteers=3, aeds=1)
    write_credentials(path, first)
    written = json.loads(path.read_text())["volunteers"]
    names = dict(await app.state.db.tuples("SELECT id, name FROM responders"))
    assert len(written) == 3
    for key, entry in written.items():
        assert entry == {"name": names[int(key)], "token": first.volunteer_tokens[int(key)]}

    # A restart registers nobody: the tokens come from the file, the names from the database,
    # also from a file of an earlier version that held bare tokens.
    path.write_text(json.dumps({"volunteers": {k: v["token"] for k, v in written.items()}}))
    again = await load_demo(app.state.db, spots, volunteers=3, aeds=1)
    assert again.volunteer_tokens == {}
    write_credentials(path, again)
    assert json.loads(path.read_text())["volunteers"] == written
    assert volunteer_token({"name": "x", "token": "t"}) == volunteer_token("t") == "t"
    assert volunteer_token({"name": "x"}) is None


async def test_demo_volunteers_get_a_web_push_subscription_that_survives_a_restart(
    app: FastAPI,
) -> None:
    from responders.emulators.webpush import WebPushServerState
    from responders.runner import _demo_subscriptions

    spots = [Address(CENTRE[0], CENTRE[1] + 0.001 * n, f"Testikatu {n}") for n in range(2)]
    summary = await load_demo(app.state.db, spots, volunteers=2, aeds=1)
    ids = sorted(summary.volunteer_names)
    runs = []
    for _ in range(2):  # a restart: a new push service that knows no subscription yet
        service = WebPushServerState()
        subscribe = _demo_subscriptions(service, "http://127.0.0.1:8000")
        assert await attach_webpush(app.state.db, ids, subscribe) == 2
        rows = await app.state.db.tuples(
            "SELECT responder_id, endpoint, p256dh FROM devices WHERE kind = 'webpush' "
            "ORDER BY responder_id"
        )
        runs.append(rows)
        assert [row[0] for row in rows] == ids
        for responder_id, endpoint, _ in rows:
            assert endpoint == (f"http://127.0.0.1:8000/webpush/push/demo-volunteer-{responder_id}")
            assert service.messages(f"demo-volunteer-{responder_id}") == []
    # The same endpoints (no dead devices left behind), with the new run's keys.
    assert [r[1] for r in runs[0]] == [r[1] for r in runs[1]]
    assert all(a[2] != b[2] for a, b in zip(runs[0], runs[1], strict=True))
    fcm = await app.state.db.scalar("SELECT count(*) FROM devices WHERE kind = 'fcm'")
    assert fcm == 2  # the FCM devices stay as they were
