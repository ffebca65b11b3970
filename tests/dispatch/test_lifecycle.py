"""Roles and AEDs, waves and timers, answers and stand-downs."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from responders.api import create_app
from responders.db.gateway import Database
from responders.dispatch.timers import run_due_timers
from responders.settings import Settings
from routing import Router
from tests.helpers import (
    INCIDENT,
    alerted,
    dispatch_settings,
    fire_timers_now,
    offset,
    place_volunteer,
    report,
)


async def _aed(
    client: httpx.AsyncClient, headers: dict[str, str], north: float, east: float, **fields: object
) -> int:
    lat, lon = offset(*INCIDENT, north, east)
    body = {
        "location": {"lat": lat, "lon": lon},
        "access": "public",
        "cabinet_code": "2468",
        **fields,
    }
    response = await client.post("/aeds", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def _outbox(app: FastAPI, kind: str) -> set[int]:
    db: Database = app.state.db
    async with db.connection() as conn:
        alert_ids = await conn.column("SELECT alert_id FROM outbox WHERE kind = %(k)s", {"k": kind})
    return set(alert_ids)


async def test_roles_fastest_direct_aeds_fetched_code_only_to_fetcher(
    client: httpx.AsyncClient,
    operator_headers: dict[str, str],
    coordinator_headers: dict[str, str],
) -> None:
    aed_a = await _aed(client, coordinator_headers, 150, -60)
    aed_b = await _aed(client, coordinator_headers, -150, 60)
    volunteers = {}
    for north, east in [
        (40, 0),
        (-200, 0),
        (200, 0),
        (0, 200),
        (0, -200),
        (250, 100),
        (-250, -100),
        (-220, 150),
        (180, -150),
    ]:
        rid, headers = await place_volunteer(client, *offset(*INCIDENT, north, east))
        volunteers[rid] = headers
    incident = await report(client, operator_headers, *INCIDENT)
    alerts = sorted(incident["alerts"], key=lambda a: a["walk_seconds"])
    fastest = min(
        incident["alerts"],
        key=lambda a: a["walk_seconds"] if a["role"] == "direct" else float("inf"),
    )
    assert len(alerts) == 9
    direct_times = {a["responder_id"]: a for a in alerts}
    assert fastest["role"] == "direct"
    via = [a for a in alerts if a["role"] == "via_aed"]
    assert {a["aed_id"] for a in via} == {aed_a, aed_b}, "each usable AED gets a fetcher"
    assert 4 <= len(via) <= 6, "about two thirds go via an AED"
    for a in via:
        assert a["walk_seconds"] <= 360
    # The cabinet code reaches the fetcher's alert once accepted, never a direct responder's
    # (tests/api/test_privacy.py has the whole rule).
    fetcher = via[0]
    fetcher_headers = volunteers[fetcher["responder_id"]]
    await client.post(f"/alerts/{fetcher['id']}/accept", headers=fetcher_headers)
    mine = await client.get(f"/alerts/{fetcher['id']}", headers=fetcher_headers)
    assert mine.json()["aed"]["cabinet_code"] == "2468"
    assert mine.json()["route"]["geometry"]["type"] == "LineString"
    direct = next(a for a in alerts if a["role"] == "direct")
    theirs = await client.get(f"/alerts/{direct['id']}", headers=volunteers[direct["responder_id"]])
    assert theirs.json()["aed"] is None
    assert direct_times  # every alert carries its walking time
    # A volunteer cannot read another volunteer's alert.
    other = next(h for rid, h in volunteers.items() if rid != fetcher["responder_id"])
    assert (await client.get(f"/alerts/{fetcher['id']}", headers=other)).status_code == 404


async def test_the_dispatch_answer_is_the_incident_as_stored(
    client: httpx.AsyncClient,
    operator_headers: dict[str, str],
    coordinator_headers: dict[str, str],
) -> None:
    """POST /incidents answers from the wave's own statement, not from a read after it: the
    answer must be exactly what reading the incident gives."""
    aed = await _aed(client, coordinator_headers, 150, -60)
    for north, east in [(40, 0), (-200, 0), (200, 0), (0, 200), (0, -200), (250, 100)]:
        await place_volunteer(client, *offset(*INCIDENT, north, east))
    answered = await report(client, operator_headers, *INCIDENT)
    read = await client.get(f"/incidents/{answered['id']}", headers=operator_headers)
    assert read.status_code == 200
    assert answered == read.json()
    assert len(answered["alerts"]) == 6 and [a["id"] for a in answered["aeds"]] == [aed]
    assert [e["kind"] for e in answered["timeline"]] == [
        "reported",
        *["alert_queued"] * 6,
        "wave_started",
    ]


async def test_aed_opening_hours_decide_usability(
    client: httpx.AsyncClient,
    operator_headers: dict[str, str],
    coordinator_headers: dict[str, str],
) -> None:
    now = dt.datetime.now(ZoneInfo("Europe/Helsinki"))
    day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][now.weekday()]
    later = (now + dt.timedelta(hours=2)).strftime("%H:%M")
    much_later = (now + dt.timedelta(hours=3)).strftime("%H:%M")
    closed = await _aed(
        client,
        coordinator_headers,
        60,
        0,
        access="restricted",
        opening_hours=[{"days": [day], "start": later, "end": much_later}],
    )
    open_now = await _aed(
        client,
        coordinator_headers,
        -120,
        0,
        access="restricted",
        opening_hours=[
            {
                "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                "start": "00:00",
                "end": "24:00",
            }
        ],
    )
    out = await _aed(client, coordinator_headers, 0, 60, status="out")
    for north in (100, -200, 200, 250):
        await place_volunteer(client, *offset(*INCIDENT, north, 30))
    incident = await report(client, operator_headers, *INCIDENT)
    used = {a["aed_id"] for a in incident["alerts"] if a["role"] == "via_aed"}
    assert used == {open_now}
    assert closed not in used and out not in used


@pytest.mark.dispatch(wave_size=2, wanted_accepts=5)
async def test_second_wave_after_timeout_never_realerts(
    client: httpx.AsyncClient, operator_headers: dict[str, str], app: FastAPI
) -> None:
    ids = [(await place_volunteer(client, *offset(*INCIDENT, d, 0)))[0] for d in (50, 100, 150)]
    # 1,080 m away: outside the first wave's 1,000 m, inside the second's 1,500 m (and on
    # land: 1,300 m due south was 260 m from any street, past the snap limit).
    far, _ = await place_volunteer(client, *offset(*INCIDENT, -1000, -400))
    incident = await report(client, operator_headers, *INCIDENT)
    assert set(alerted(incident)) == set(ids[:2])
    assert incident["next_wave_at"] is not None
    assert await fire_timers_now(app) == 1
    second = (await client.get(f"/incidents/{incident['id']}", headers=operator_headers)).json()
    assert second["wave"] == 2 and second["radius_m"] == 1500
    assert set(alerted(second)) == {*ids, far}
    assert alerted(second)[ids[2]]["wave"] == alerted(second)[far]["wave"] == 2
    assert await fire_timers_now(app) == 1
    third = (await client.get(f"/incidents/{incident['id']}", headers=operator_headers)).json()
    assert third["wave"] == 3
    assert len(third["alerts"]) == 4, "nobody is alerted twice for one incident"


@pytest.mark.dispatch(wave_size=1)
async def test_decline_brings_a_replacement(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    first, first_headers = await place_volunteer(client, *offset(*INCIDENT, 60, 0))
    second, _ = await place_volunteer(client, *offset(*INCIDENT, 200, 0))
    incident = await report(client, operator_headers, *INCIDENT)
    assert set(alerted(incident)) == {first}
    alert_id = alerted(incident)[first]["id"]
    declined = await client.post(f"/alerts/{alert_id}/decline", headers=first_headers)
    assert declined.json() == {"id": alert_id, "status": "declined"}
    now = (await client.get(f"/incidents/{incident['id']}", headers=operator_headers)).json()
    assert set(alerted(now)) == {first, second}
    assert alerted(now)[second]["status"] == "queued"


@pytest.mark.dispatch(wanted_accepts=2)
async def test_enough_accepts_stand_the_rest_down(
    client: httpx.AsyncClient, operator_headers: dict[str, str], app: FastAPI
) -> None:
    people = [await place_volunteer(client, *offset(*INCIDENT, d, 0)) for d in (50, 100, 150, 200)]
    incident = await report(client, operator_headers, *INCIDENT)
    alerts = alerted(incident)
    for rid, headers in people[:2]:
        response = await client.post(f"/alerts/{alerts[rid]['id']}/accept", headers=headers)
        assert response.json()["status"] == "accepted"
    now = alerted(
        (await client.get(f"/incidents/{incident['id']}", headers=operator_headers)).json()
    )
    assert [now[rid]["status"] for rid, _ in people] == [
        "accepted",
        "accepted",
        "stood_down",
        "stood_down",
    ]
    assert now[people[2][0]]["stand_down_reason"] == "no_longer_needed"
    detail = (await client.get(f"/incidents/{incident['id']}", headers=operator_headers)).json()
    assert detail["next_wave_at"] is None
    assert "enough_accepted" in [e["kind"] for e in detail["timeline"]]


@pytest.mark.parametrize("ending", ["cancel", "close"])
async def test_cancel_and_close_stand_everyone_down_but_decliners(
    client: httpx.AsyncClient, operator_headers: dict[str, str], app: FastAPI, ending: str
) -> None:
    people = [await place_volunteer(client, *offset(*INCIDENT, d, 0)) for d in (50, 100, 150)]
    incident = await report(client, operator_headers, *INCIDENT)
    alerts = alerted(incident)
    (a, ha), (b, hb), (c, _) = people
    await client.post(f"/alerts/{alerts[a]['id']}/accept", headers=ha)
    await client.post(f"/alerts/{alerts[b]['id']}/decline", headers=hb)
    async with app.state.db.transaction() as conn:  # as if the worker had sent them
        await conn.execute("UPDATE alerts SET status = 'sent' WHERE status = 'queued'")
        await conn.execute("DELETE FROM outbox")
    why = {"reason": "other", "note": "a test"}  # a reason both endings take
    ended = await client.post(
        f"/incidents/{incident['id']}/{ending}", headers=operator_headers, json=why
    )
    assert ended.status_code == 200
    body = ended.json()
    assert body["status"] == {"cancel": "cancelled", "close": "closed"}[ending]
    statuses = {rid: alert["status"] for rid, alert in alerted(body).items()}
    assert statuses == {a: "stood_down", b: "declined", c: "stood_down"}
    assert await _outbox(app, "stand_down") == {alerts[a]["id"], alerts[c]["id"]}
    again = await client.post(
        f"/incidents/{incident['id']}/{ending}", headers=operator_headers, json=why
    )
    assert again.status_code == 200, "repeating is harmless"


async def test_illegal_transitions_are_409_with_state(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    rid, headers = await place_volunteer(client, *offset(*INCIDENT, 60, 0))
    incident = await report(client, operator_headers, *INCIDENT)
    alert_id = alerted(incident)[rid]["id"]
    early = await client.post(f"/alerts/{alert_id}/arrived", headers=headers)
    assert early.status_code == 409
    assert early.json()["code"] == "illegal_transition" and early.json()["state"] == "queued"
    assert (await client.post(f"/alerts/{alert_id}/delivered", headers=headers)).json()[
        "status"
    ] == "delivered"
    assert (await client.post(f"/alerts/{alert_id}/accept", headers=headers)).status_code == 200
    repeat = await client.post(f"/alerts/{alert_id}/accept", headers=headers)
    assert repeat.status_code == 200 and repeat.json()["status"] == "accepted"
    await client.post(
        f"/incidents/{incident['id']}/cancel",
        headers=operator_headers,
        json={"reason": "duplicate"},
    )
    late = await client.post(f"/alerts/{alert_id}/arrived", headers=headers)
    assert late.status_code == 409
    assert late.json()["incident_state"] == "cancelled"
    closing = await client.post(
        f"/incidents/{incident['id']}/close",
        headers=operator_headers,
        json={"reason": "ems_took_over"},
    )
    assert closing.status_code == 409 and closing.json()["state"] == "cancelled"


async def test_wave_timer_survives_an_app_restart(
    settings: Settings,
    helsinki_router: Router,
    clean_db: AsyncEngine,
    operator_headers: dict[str, str],
    client: httpx.AsyncClient,
) -> None:
    configured = settings.model_copy(update={"dispatch": dispatch_settings(wave_size=1)})
    first_app = create_app(configured, router=helsinki_router)
    async with (
        first_app.router.lifespan_context(first_app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=first_app), base_url="http://t"
        ) as http,
    ):
        near, _ = await place_volunteer(http, *offset(*INCIDENT, 50, 0))
        later, _ = await place_volunteer(http, *offset(*INCIDENT, 120, 0))
        incident = await report(http, operator_headers, *INCIDENT)
    # The first process is gone; a new one finds the due timer in the database.
    second_app = create_app(configured, router=helsinki_router)
    async with second_app.router.lifespan_context(second_app):
        await second_app.state.db.execute(
            "UPDATE incidents SET next_wave_at = now() - interval '1 s'"
        )
        assert await run_due_timers(second_app.state.db, second_app.state.dispatch_context) == 1
    detail = (await client.get(f"/incidents/{incident['id']}", headers=operator_headers)).json()
    assert set(alerted(detail)) == {near, later}
    assert detail["wave"] == 2


async def test_alert_list_and_expiry(
    client: httpx.AsyncClient, operator_headers: dict[str, str], app: FastAPI
) -> None:
    _, headers = await place_volunteer(client, *offset(*INCIDENT, 60, 0))
    incident = await report(client, operator_headers, *INCIDENT)
    mine = (await client.get("/alerts", headers=headers)).json()
    assert [a["incident"]["id"] for a in mine] == [incident["id"]]
    assert mine[0]["incident"]["address"] == "Testikatu 1"
    await app.state.db.execute("UPDATE alerts SET expires_at = now() - interval '1 s'")
    await run_due_timers(app.state.db, app.state.dispatch_context)
    assert (await client.get("/alerts", headers=headers)).json()[0]["status"] == "expired"
    # A late "yes" is still welcome while the incident is open.
    accepted = await client.post(f"/alerts/{mine[0]['id']}/accept", headers=headers)
    assert accepted.json()["status"] == "accepted"


@pytest.mark.api(address_after_accept=True)
async def test_address_shown_only_after_accept_when_configured(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    rid, headers = await place_volunteer(client, *offset(*INCIDENT, 60, 0))
    incident = await report(client, operator_headers, *INCIDENT)
    alert_id = alerted(incident)[rid]["id"]
    before = (await client.get(f"/alerts/{alert_id}", headers=headers)).json()
    assert before["incident"]["location"] is None and before["incident"]["address"] is None
    assert before["route"] is None
    assert before["walk_seconds"] > 0, "the volunteer can still judge the distance"
    await client.post(f"/alerts/{alert_id}/accept", headers=headers)
    after = (await client.get(f"/alerts/{alert_id}", headers=headers)).json()
    assert after["incident"]["address"] == "Testikatu 1"
    assert after["incident"]["location"]["type"] == "Point"
    assert after["route"]["geometry"]["type"] == "LineString"


async def _push_failed(app: FastAPI, alert_id: int) -> None:
    """What the push worker does when it gives up on an alert (e.g. no registered device):
    its push is withdrawn, it is marked failed and counted as a replacement due."""
    async with app.state.db.transaction() as conn:
        await conn.execute("DELETE FROM outbox WHERE alert_id = %(id)s", {"id": alert_id})
        incident = await conn.scalar(
            "UPDATE alerts SET status = 'failed', push_error = 'no registered device' "
            "WHERE id = %(id)s RETURNING incident_id",
            {"id": alert_id},
        )
        await conn.execute(
            "UPDATE incidents SET replacements_due = replacements_due + 1 WHERE id = %(id)s",
            {"id": incident},
        )


@pytest.mark.dispatch(wanted_accepts=2)
async def test_a_failed_alert_can_be_answered_while_help_is_wanted(
    client: httpx.AsyncClient, operator_headers: dict[str, str], app: FastAPI
) -> None:
    people = [await place_volunteer(client, *offset(*INCIDENT, d, 0)) for d in (50, 100, 150, 200)]
    incident = await report(client, operator_headers, *INCIDENT)
    alerts = alerted(incident)
    (a, ha), (b, hb), (c, hc), (e, he) = people
    for rid in (a, b, c):
        await _push_failed(app, alerts[rid]["id"])
    # The volunteer has the app open: the push failed, the answer still counts.
    accepted = await client.post(f"/alerts/{alerts[a]['id']}/accept", headers=ha)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted"
    declined = await client.post(f"/alerts/{alerts[b]['id']}/decline", headers=hb)
    assert declined.status_code == 200, declined.text
    detail = (await client.get(f"/incidents/{incident['id']}", headers=operator_headers)).json()
    kinds = [event["kind"] for event in detail["timeline"]]
    assert "replacement" not in kinds, "the failed push was already counted as a decline"
    # Once enough have accepted, help is no longer wanted: the failed alert is stood down
    # (without a push: it has none that works) and can no longer be accepted.
    await client.post(f"/alerts/{alerts[e]['id']}/accept", headers=he)
    now = alerted(
        (await client.get(f"/incidents/{incident['id']}", headers=operator_headers)).json()
    )
    assert [now[rid]["status"] for rid in (a, b, c, e)] == [
        "accepted",
        "declined",
        "stood_down",
        "accepted",
    ]
    assert now[c]["stand_down_reason"] == "no_longer_needed"
    assert alerts[c]["id"] not in await _outbox(app, "no_longer_needed")
    late = await client.post(f"/alerts/{alerts[c]['id']}/accept", headers=hc)
    assert late.status_code == 409 and late.json()["state"] == "stood_down"


@pytest.mark.dispatch(wanted_accepts=1)
async def test_a_failed_alert_cannot_be_answered_once_help_is_not_wanted(
    client: httpx.AsyncClient, operator_headers: dict[str, str], app: FastAPI
) -> None:
    (a, ha), (b, hb) = [await place_volunteer(client, *offset(*INCIDENT, d, 0)) for d in (50, 100)]
    incident = await report(client, operator_headers, *INCIDENT)
    alerts = alerted(incident)
    await client.post(f"/alerts/{alerts[a]['id']}/accept", headers=ha)
    # Failed after enough had accepted (the worker's last retry ran late): not wanted.
    await _push_failed(app, alerts[b]["id"])
    refused = await client.post(f"/alerts/{alerts[b]['id']}/accept", headers=hb)
    assert refused.status_code == 409
    assert refused.json()["state"] == "failed" and "enough" in refused.json()["detail"]
    await client.post(
        f"/incidents/{incident['id']}/close",
        headers=operator_headers,
        json={"reason": "ems_took_over"},
    )
    closed = await client.post(f"/alerts/{alerts[b]['id']}/decline", headers=hb)
    assert closed.status_code == 409 and closed.json()["incident_state"] == "closed"


# --------------------------------------------------------------------------------------------
# Delivery and stand-downs (issue 12, #6)


async def test_close_after_arrival_keeps_the_arrival_and_sends_it_no_stand_down(
    client: httpx.AsyncClient, operator_headers: dict[str, str], app: FastAPI
) -> None:
    people = [await place_volunteer(client, *offset(*INCIDENT, d, 0)) for d in (50, 100)]
    incident = await report(client, operator_headers, *INCIDENT)
    alerts = alerted(incident)
    (there, there_headers), (coming, _) = people
    for rid, headers in people:
        accepted = await client.post(f"/alerts/{alerts[rid]['id']}/accept", headers=headers)
        assert accepted.json()["status"] == "accepted"
    arrived = await client.post(f"/alerts/{alerts[there]['id']}/arrived", headers=there_headers)
    assert arrived.json()["status"] == "arrived"
    closed = await client.post(
        f"/incidents/{incident['id']}/close",
        headers=operator_headers,
        json={"reason": "ems_took_over"},
    )
    assert closed.status_code == 200
    statuses = {rid: alert["status"] for rid, alert in alerted(closed.json()).items()}
    assert statuses == {there: "arrived", coming: "stood_down"}
    assert alerted(closed.json())[there]["stand_down_reason"] is None
    assert await _outbox(app, "stand_down") == {alerts[coming]["id"]}, "only the one on the way"
    mine = (await client.get(f"/alerts/{alerts[there]['id']}", headers=there_headers)).json()
    assert mine["status"] == "arrived"
