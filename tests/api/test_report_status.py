"""A citizen's status link (issue 14, item 5): a token only the reporter holds, stored as
its digest; the status follows the real lifecycle in the reporter's words and never shows
a volunteer; an operator's first look at a report is "seen"; unknown links are 404; the
nearest usable AED comes with its walking route; both reads are rate-limited per client."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from responders.api import create_app
from responders.db.gateway import Database
from responders.privacy import purge
from responders.settings import LimitSettings, PrivacySettings, Settings
from routing import Router
from tests.helpers import INCIDENT, offset, place_volunteer

WHERE = {"lat": INCIDENT[0], "lon": INCIDENT[1]}
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


async def _report(client: httpx.AsyncClient, kind: str = "cardiac_arrest") -> dict[str, Any]:
    sent = await client.post("/reports", json={"kind": kind, "location": WHERE})
    assert sent.status_code == 201, sent.text
    received: dict[str, Any] = sent.json()
    return received


async def _status(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    answer = await client.get("/reports/status", headers={"X-Report-Token": token})
    assert answer.status_code == 200, answer.text
    assert answer.headers["Cache-Control"] == "no-store"
    body: dict[str, Any] = answer.json()
    return body


async def test_the_token_is_stored_only_as_its_digest(
    client: httpx.AsyncClient, db: Database
) -> None:
    received = await _report(client)
    token = received["status_token"]
    assert len(token) >= 43  # secrets.token_urlsafe(32): 256 bits
    assert received["status_url"] == f"/report/status#{token}"
    row = await db.first(
        "SELECT status_token_hash, to_jsonb(i)::text AS everything FROM incidents i "
        "WHERE id = %(id)s",
        {"id": received["id"]},
    )
    assert row is not None
    assert bytes(row["status_token_hash"]) == hashlib.sha256(token.encode()).digest()
    assert token not in row["everything"]
    events = await db.rows(
        "SELECT detail::text AS detail FROM incident_events WHERE incident_id = %(id)s",
        {"id": received["id"]},
    )
    assert events and all(token not in e["detail"] for e in events)
    # Two reports, two different links.
    assert (await _report(client))["status_token"] != token


async def test_the_status_follows_the_lifecycle_and_never_shows_a_volunteer(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    volunteers = []
    for north, east in ((80, 0), (0, 120), (-100, -60)):
        rid, headers = await place_volunteer(
            client, *offset(*INCIDENT, north, east), name=f"Secret Name {north}"
        )
        volunteers.append((rid, headers))
    received = await _report(client)
    token, incident_id = received["status_token"], received["id"]
    seen: list[dict[str, Any]] = []

    first = await _status(client, token)
    seen.append(first)
    assert first["phase"] == "received" and first["status"] == "triage"
    assert first["headline"] == "Received: waiting for a dispatcher."
    assert first["id"] == incident_id and first["ended"] is False
    assert first["location"]["coordinates"] == [WHERE["lon"], WHERE["lat"]]

    # An operator opens it: "seen", once, however often the console reads it.
    for _ in range(3):
        opened = await client.get(f"/incidents/{incident_id}", headers=operator_headers)
        assert opened.status_code == 200
    kinds = [e["kind"] for e in opened.json()["timeline"]]
    assert kinds == ["reported", "seen"]
    looking = await _status(client, token)
    seen.append(looking)
    assert looking["phase"] == "seen"
    assert looking["headline"] == "A dispatcher is looking at your report."

    confirmed = await client.post(f"/incidents/{incident_id}/confirm", headers=operator_headers)
    assert confirmed.status_code == 200
    alerts = confirmed.json()["alerts"]
    assert len(alerts) == 3
    helping = await _status(client, token)
    seen.append(helping)
    assert helping["phase"] == "help" and helping["status"] == "active"
    assert (helping["alerted"], helping["coming"], helping["arrived"]) == (3, 0, 0)
    assert helping["headline"] == "Help is on the way: 3 volunteers alerted, 0 coming."

    by_volunteer = {a["responder_id"]: a["id"] for a in alerts}
    rid, headers = volunteers[0]
    accepted = await client.post(f"/alerts/{by_volunteer[rid]}/accept", headers=headers)
    assert accepted.status_code == 200, accepted.text
    coming = await _status(client, token)
    seen.append(coming)
    assert (coming["alerted"], coming["coming"], coming["arrived"]) == (3, 1, 0)
    assert coming["headline"] == "Help is on the way: 3 volunteers alerted, 1 coming."
    arrived = await client.post(f"/alerts/{by_volunteer[rid]}/arrived", headers=headers)
    assert arrived.status_code == 200
    there = await _status(client, token)
    seen.append(there)
    assert there["headline"] == "Help is on the way: 3 volunteers alerted, 0 coming, 1 arrived."

    closed = await client.post(
        f"/incidents/{incident_id}/close",
        headers=operator_headers,
        json={"reason": "ems_took_over"},
    )
    assert closed.status_code == 200
    over = await _status(client, token)
    seen.append(over)
    assert over["phase"] == "closed" and over["ended"] is True
    assert over["headline"] == "The incident is closed."

    # Counts only: no volunteer's id, name, phone, position or alert in any answer; the
    # one place in it is the report's own.
    fields = {
        "id", "phase", "status", "kind", "headline", "detail", "alerted", "coming",
        "arrived", "ended", "location", "reported_at", "seen_at",
    }  # fmt: skip
    for answer in seen:
        assert set(answer) == fields
        assert answer["location"]["coordinates"] == [WHERE["lon"], WHERE["lat"]]
    text = str(seen)
    assert "Secret Name" not in text and "+358" not in text


async def test_a_cancelled_report_is_closed_too(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    received = await _report(client, "other")
    cancel = await client.post(
        f"/incidents/{received['id']}/cancel",
        headers=operator_headers,
        json={"reason": "duplicate"},
    )
    assert cancel.status_code == 200
    over = await _status(client, received["status_token"])
    assert over["phase"] == "cancelled" and over["ended"] is True
    assert over["headline"] == "The incident is closed."
    assert "call 112" in over["detail"]
    # Reading an ended report writes no "seen".
    detail = await client.get(f"/incidents/{received['id']}", headers=operator_headers)
    assert "seen" not in [e["kind"] for e in detail.json()["timeline"]]


async def test_an_operators_own_incident_is_never_marked_seen(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    made = await client.post(
        "/incidents", headers=operator_headers, json={"kind": "other", "location": WHERE}
    )
    detail = await client.get(f"/incidents/{made.json()['id']}", headers=operator_headers)
    assert "seen" not in [e["kind"] for e in detail.json()["timeline"]]


async def test_an_unknown_link_is_404_with_a_sentence(client: httpx.AsyncClient) -> None:
    await _report(client)
    for path in ("/reports/status", "/reports/status/aed"):
        answer = await client.get(path, headers={"X-Report-Token": "x" * 43})
        assert answer.status_code == 404
        body = answer.json()
        assert body["code"] == "not_found"
        assert body["detail"].startswith("This status link does not match any report")
    missing = await client.get("/reports/status")
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "header.X-Report-Token"


def _closed_now(timezone: str) -> list[dict[str, Any]]:
    """Opening hours that leave out today (in the region's time zone): closed now."""
    today = dt.datetime.now(ZoneInfo(timezone)).weekday()
    return [{"days": [_DAYS[(today + 3) % 7]], "start": "08:00", "end": "09:00"}]


async def test_the_nearest_usable_aed_comes_with_its_walking_route(
    client: httpx.AsyncClient, coordinator_headers: dict[str, str], settings: Settings
) -> None:
    received = await _report(client)
    token = received["status_token"]
    nothing = await client.get("/reports/status/aed", headers={"X-Report-Token": token})
    assert nothing.status_code == 200
    assert nothing.json()["aed"] is None and nothing.json()["route"] is None
    assert nothing.json()["message"].startswith("No AED that is open now")

    async def aed(north: float, east: float, **fields: Any) -> int:
        lat, lon = offset(*INCIDENT, north, east)
        body = {"location": {"lat": lat, "lon": lon}, "cabinet_code": "4321", **fields}
        made = await client.post("/aeds", headers=coordinator_headers, json=body)
        assert made.status_code == 201, made.text
        return int(made.json()["id"])

    # The nearest is closed now, the next is out of service: neither is usable.
    await aed(40, 0, access="restricted", address="Closed Office",
              opening_hours=_closed_now(settings.region.timezone))  # fmt: skip
    await aed(60, 30, address="Broken Cabinet", status="out")
    await aed(-250, 100, address="Kaisaniemenkatu 2", description="by the lifts")
    found = await client.get("/reports/status/aed", headers={"X-Report-Token": token})
    assert found.status_code == 200
    assert found.headers["Cache-Control"] == "no-store"
    body = found.json()
    assert body["aed"]["address"] == "Kaisaniemenkatu 2"
    assert body["aed"]["description"] == "by the lifts" and body["aed"]["access"] == "public"
    assert "4321" not in found.text and "cabinet_code" not in found.text
    route = body["route"]
    assert route["geometry"]["type"] == "LineString"
    start = route["geometry"]["coordinates"][0]
    assert abs(start[0] - WHERE["lon"]) < 1e-6 and abs(start[1] - WHERE["lat"]) < 1e-6
    assert abs(body["walk_seconds"] - route["properties"]["duration_s"]) < 0.1
    assert 60 < body["walk_seconds"] < 600
    assert body["distance_m"] > 250
    assert "min away on foot" in body["message"]


# ---- rate limits: a limited app, as tests/api/test_limits.py makes one


@pytest_asyncio.fixture(loop_scope="session")
async def limited(
    settings: Settings, helsinki_router: Router, clean_db: AsyncEngine
) -> AsyncIterator[FastAPI]:
    limits = LimitSettings(
        report_status_per_client_per_minute=3, report_aed_per_client_per_minute=1
    )
    app = create_app(settings.model_copy(update={"limits": limits}), router=helsinki_router)
    async with app.router.lifespan_context(app):
        yield app


def _from(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def test_status_reads_are_rate_limited_per_client(limited: FastAPI) -> None:
    async with _from(limited, "10.1.0.1") as http:
        token = (await _report(http))["status_token"]
        headers = {"X-Report-Token": token}
        codes = [(await http.get("/reports/status", headers=headers)).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        refused = await http.get("/reports/status", headers=headers)
        assert refused.json()["code"] == "rate_limited"
        assert int(refused.headers["Retry-After"]) >= 1
        aeds = [(await http.get("/reports/status/aed", headers=headers)).status_code for _ in "ab"]
        assert aeds == [200, 429]
    # Another client is not refused for what this one asked.
    async with _from(limited, "10.1.0.2") as other:
        assert (await other.get("/reports/status", headers=headers)).status_code == 200


async def test_the_retention_purge_ends_the_status_link(
    client: httpx.AsyncClient, operator_headers: dict[str, str], app: FastAPI
) -> None:
    """Past the retention time the link answers nothing more (not even the kind and place)."""
    received = await _report(client)
    token = received["status_token"]
    cancelled = await client.post(
        f"/incidents/{received['id']}/cancel",
        headers=operator_headers,
        json={"reason": "duplicate"},
    )
    assert cancelled.status_code == 200, cancelled.text
    assert (await _status(client, token))["phase"] == "cancelled"
    await app.state.db.execute("UPDATE incidents SET ended_at = now() - interval '31 days'")
    async with app.state.db.transaction() as conn:
        purged = await purge(conn, PrivacySettings())
    assert purged.incidents == 1
    gone = await client.get("/reports/status", headers={"X-Report-Token": token})
    assert gone.status_code == 404, gone.text
