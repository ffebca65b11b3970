"""Closing and cancelling with a reason, correcting an open incident, and the history
(issue 14, item 4): over the API, on the real database."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI

from responders.dispatch.history import window
from responders.errors import InvalidInput
from responders.privacy import purge
from responders.settings import PrivacySettings
from tests.helpers import INCIDENT, alerted, offset, place_volunteer, report

HARBOUR = {"lat": 60.163, "lon": 24.956}  # South Harbour: water, 215 m from the quay
HELSINKI = ZoneInfo("Europe/Helsinki")


async def _outbox(app: FastAPI, kind: str) -> set[int]:
    rows = await app.state.db.rows("SELECT alert_id FROM outbox WHERE kind = %(k)s", {"k": kind})
    return {row["alert_id"] for row in rows}


def _events(detail: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in detail["timeline"] if e["kind"] == kind]


# --------------------------------------------------------------------------- end reasons


async def test_close_and_cancel_need_a_reason_named_in_the_refusal(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    incident = await report(client, operator_headers, *INCIDENT)
    path = f"/incidents/{incident['id']}"
    for action in ("close", "cancel"):
        bare = await client.post(f"{path}/{action}", headers=operator_headers)
        assert bare.status_code == 422, bare.text
        assert bare.json()["field"] == "body.reason" and "why" in bare.json()["detail"]
        empty = await client.post(f"{path}/{action}", headers=operator_headers, json={})
        assert empty.status_code == 422 and empty.json()["field"] == "body.reason"
    # A cancel reason does not close, and the reverse.
    wrong = await client.post(
        f"{path}/close", headers=operator_headers, json={"reason": "duplicate"}
    )
    assert wrong.status_code == 422 and wrong.json()["field"] == "body.reason"
    assert "ems_took_over" in wrong.json()["detail"]
    other = await client.post(f"{path}/cancel", headers=operator_headers, json={"reason": "other"})
    assert other.status_code == 422 and other.json()["field"] == "body.note"
    assert "note" in other.json()["detail"]
    still = (await client.get(path, headers=operator_headers)).json()
    assert still["status"] == "active" and still["end_reason"] is None


async def test_cancel_stores_the_reason_in_the_incident_timeline_and_alert(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    rid, headers = await place_volunteer(client, *offset(*INCIDENT, 60, 0))
    incident = await report(client, operator_headers, *INCIDENT)
    cancelled = await client.post(
        f"/incidents/{incident['id']}/cancel",
        headers=operator_headers,
        json={"reason": "ems_on_scene", "note": "  "},
    )
    assert cancelled.status_code == 200, cancelled.text
    detail = cancelled.json()
    assert detail["status"] == "cancelled"
    assert (detail["end_reason"], detail["end_note"]) == ("ems_on_scene", None)
    [event] = _events(detail, "cancelled")
    assert event["detail"] == {"reason": "ems_on_scene", "note": None}
    assert alerted(detail)[rid]["stand_down_reason"] == "cancelled"
    # The volunteer's own alert says why, in words.
    mine = (await client.get(f"/alerts/{alerted(detail)[rid]['id']}", headers=headers)).json()
    assert mine["incident"]["end_reason"] == "ems_on_scene"
    assert mine["incident"]["end_reason_text"] == "the ambulance is on scene"


async def test_close_with_other_keeps_the_operators_note(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    incident = await report(client, operator_headers, *INCIDENT)
    body = {"reason": "other", "note": "Police took over the scene"}
    closed = await client.post(
        f"/incidents/{incident['id']}/close", headers=operator_headers, json=body
    )
    assert closed.status_code == 200, closed.text
    assert (closed.json()["end_reason"], closed.json()["end_note"]) == (
        "other",
        "Police took over the scene",
    )
    assert _events(closed.json(), "closed")[0]["detail"] == body
    # Ended: a second ending with another reason changes nothing, a close after a cancel is 409.
    again = await client.post(
        f"/incidents/{incident['id']}/close",
        headers=operator_headers,
        json={"reason": "patient_fine"},
    )
    assert again.status_code == 200 and again.json()["end_reason"] == "other"
    late = await client.post(
        f"/incidents/{incident['id']}/cancel",
        headers=operator_headers,
        json={"reason": "duplicate"},
    )
    assert late.status_code == 409 and late.json()["state"] == "closed"


# --------------------------------------------------------------------------- corrections


async def test_correction_is_recorded_old_to_new_and_queues_update_pushes(
    client: httpx.AsyncClient, operator_headers: dict[str, str], app: FastAPI
) -> None:
    people = [await place_volunteer(client, *offset(*INCIDENT, d, 0)) for d in (50, 100, 150, 200)]
    incident = await report(client, operator_headers, *INCIDENT)
    alerts = alerted(incident)
    (seen, hs), (accepted, ha), (declined, hd), (queued, _) = people
    for rid, headers in ((seen, hs), (accepted, ha), (declined, hd)):
        answered = await client.post(f"/alerts/{alerts[rid]['id']}/delivered", headers=headers)
        assert answered.status_code == 200
    await client.post(f"/alerts/{alerts[accepted]['id']}/accept", headers=ha)
    await client.post(f"/alerts/{alerts[declined]['id']}/decline", headers=hd)

    corrected = await client.patch(
        f"/incidents/{incident['id']}",
        headers=operator_headers,
        json={"address": "Unioninkatu 20", "notes": "Second floor"},
    )
    assert corrected.status_code == 200, corrected.text
    detail = corrected.json()
    assert (detail["address"], detail["notes"]) == ("Unioninkatu 20", "Second floor")
    [event] = _events(detail, "corrected")
    assert event["detail"]["changes"] == {
        "address": {"old": "Testikatu 1", "new": "Unioninkatu 20"},
        "notes": {"old": None, "new": "Second floor"},
    }
    # Everyone who may be on the way hears of it; the one who said no, and the one whose
    # alert has not left yet (it is read after the correction anyway), do not.
    assert await _outbox(app, "update") == {alerts[seen]["id"], alerts[accepted]["id"]}
    assert alerts[queued]["status"] == "queued"
    # The same values again: nothing changed, nothing recorded, nobody told twice.
    same = await client.patch(
        f"/incidents/{incident['id']}",
        headers=operator_headers,
        json={"address": "Unioninkatu 20"},
    )
    assert len(_events(same.json(), "corrected")) == 1
    assert len(await app.state.db.rows("SELECT id FROM outbox WHERE kind = 'update'")) == 2


async def test_a_moved_pin_reaches_the_volunteer_with_a_new_route(
    client: httpx.AsyncClient, operator_headers: dict[str, str], app: FastAPI
) -> None:
    rid, headers = await place_volunteer(client, *offset(*INCIDENT, 300, 0))
    incident = await report(client, operator_headers, *INCIDENT)
    alert_id = alerted(incident)[rid]["id"]
    before = (await client.get(f"/alerts/{alert_id}", headers=headers)).json()
    assert before["route"] is not None
    new_lat, new_lon = offset(*INCIDENT, -150, 60)
    moved = await client.patch(
        f"/incidents/{incident['id']}",
        headers=operator_headers,
        json={"location": {"lat": new_lat, "lon": new_lon}},
    )
    assert moved.status_code == 200, moved.text
    [event] = _events(moved.json(), "corrected")
    assert 140 < event["detail"]["changes"]["location"]["moved_m"] < 180
    assert moved.json()["location"]["coordinates"] == pytest.approx([new_lon, new_lat])
    after = (await client.get(f"/alerts/{alert_id}", headers=headers)).json()
    assert after["incident"]["location"]["coordinates"] == pytest.approx([new_lon, new_lat])
    # The route was drawn again, to the new pin (within the snap to the nearest path).
    end_lon, end_lat = after["route"]["geometry"]["coordinates"][-1]
    assert abs(end_lat - new_lat) < 0.0005 and abs(end_lon - new_lon) < 0.001
    assert after["route"] != before["route"]


async def test_a_correction_is_refused_off_network_unconfirmed_and_once_ended(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    incident = await report(client, operator_headers, *INCIDENT)
    path = f"/incidents/{incident['id']}"
    water = await client.patch(path, headers=operator_headers, json={"location": HARBOUR})
    assert water.status_code == 422 and water.json()["code"] == "confirm_off_network"
    nothing = await client.patch(path, headers=operator_headers, json={})
    assert nothing.status_code == 422 and "Nothing to correct" in nothing.json()["detail"]
    confirmed = await client.patch(
        path, headers=operator_headers, json={"location": HARBOUR, "confirm_off_network": True}
    )
    assert confirmed.status_code == 200
    await client.post(f"{path}/close", headers=operator_headers, json={"reason": "patient_fine"})
    ended = await client.patch(path, headers=operator_headers, json={"notes": "late"})
    assert ended.status_code == 409, ended.text
    assert ended.json()["state"] == "closed" and "cannot be corrected" in ended.json()["detail"]
    missing = await client.patch("/incidents/999999", headers=operator_headers, json={"notes": "x"})
    assert missing.status_code == 404


# --------------------------------------------------------------------------- history


async def _backdate(app: FastAPI, incident_id: int, when: dt.datetime) -> None:
    await app.state.db.execute(
        "UPDATE incidents SET created_at = %(t)s WHERE id = %(id)s", {"t": when, "id": incident_id}
    )


async def test_history_lists_ended_incidents_by_status_and_day(
    client: httpx.AsyncClient, operator_headers: dict[str, str], app: FastAPI
) -> None:
    closed = await report(client, operator_headers, *INCIDENT)
    cancelled = await report(client, operator_headers, *INCIDENT)
    still_open = await report(client, operator_headers, *INCIDENT)
    old = await report(client, operator_headers, *INCIDENT)
    await client.post(
        f"/incidents/{closed['id']}/close",
        headers=operator_headers,
        json={"reason": "patient_fine"},
    )
    for ended in (cancelled, old):
        await client.post(
            f"/incidents/{ended['id']}/cancel",
            headers=operator_headers,
            json={"reason": "duplicate"},
        )
    await _backdate(app, old["id"], dt.datetime.now(dt.UTC) - dt.timedelta(days=8))

    async def ids(**params: str) -> list[int]:
        response = await client.get("/incidents", headers=operator_headers, params=params)
        assert response.status_code == 200, response.text
        return [i["id"] for i in response.json()]

    assert await ids(status="ended", since="today") == [cancelled["id"], closed["id"]]
    assert await ids(status="closed", since="week") == [closed["id"]]
    assert await ids(status="cancelled") == [cancelled["id"], old["id"]]
    assert still_open["id"] in await ids(status="open", since="today")
    listed = (
        await client.get(
            "/incidents", headers=operator_headers, params={"status": "closed", "since": "today"}
        )
    ).json()
    assert listed[0]["end_reason"] == "patient_fine"
    bad = await client.get("/incidents", headers=operator_headers, params={"since": "yesterday"})
    assert bad.status_code == 422 and bad.json()["field"] == "query.since"


async def test_history_days_are_the_regions_not_utc(
    client: httpx.AsyncClient, operator_headers: dict[str, str], app: FastAPI
) -> None:
    """Around midnight in Helsinki (22:00 UTC in winter): a day's history is Helsinki's day."""
    before = await report(client, operator_headers, *INCIDENT)
    after = await report(client, operator_headers, *INCIDENT)
    midnight = dt.datetime(2026, 1, 15, tzinfo=HELSINKI)  # 2026-01-14 22:00 UTC
    await _backdate(app, before["id"], midnight - dt.timedelta(minutes=1))
    await _backdate(app, after["id"], midnight + dt.timedelta(minutes=1))

    async def ids(**params: str) -> list[int]:
        response = await client.get(
            "/incidents", headers=operator_headers, params={"status": "all", **params}
        )
        assert response.status_code == 200, response.text
        return [i["id"] for i in response.json()]

    # In UTC both were on the 14th; in Helsinki one was on the 14th, one on the 15th.
    assert await ids(since="2026-01-15", until="2026-01-15") == [after["id"]]
    assert await ids(since="2026-01-14", until="2026-01-14") == [before["id"]]
    assert await ids(since="2026-01-14", until="2026-01-15") == [after["id"], before["id"]]
    backwards = await client.get(
        "/incidents",
        headers=operator_headers,
        params={"since": "2026-01-15", "until": "2026-01-14"},
    )
    assert backwards.status_code == 422 and backwards.json()["field"] == "query.until"


def test_today_and_this_week_begin_at_the_regions_midnight() -> None:
    # 2026-01-14 22:30 UTC is already Thursday the 15th, 00:30, in Helsinki.
    now = dt.datetime(2026, 1, 14, 22, 30, tzinfo=dt.UTC)
    start, end = window("today", None, "Europe/Helsinki", now)
    assert start == dt.datetime(2026, 1, 15, tzinfo=HELSINKI) and end is None
    assert start.astimezone(dt.UTC) == dt.datetime(2026, 1, 14, 22, tzinfo=dt.UTC)
    week, _ = window("week", None, "Europe/Helsinki", now)
    assert week == dt.datetime(2026, 1, 12, tzinfo=HELSINKI)  # Monday
    assert window(None, dt.date(2026, 1, 15), "Europe/Helsinki", now) == (
        None,
        dt.datetime(2026, 1, 16, tzinfo=HELSINKI),
    )
    with pytest.raises(InvalidInput):
        window("2026-02-30", None, "Europe/Helsinki", now)


async def test_the_retention_purge_takes_the_ending_note_and_the_corrections_texts(
    client: httpx.AsyncClient, operator_headers: dict[str, str], app: FastAPI
) -> None:
    incident = await report(client, operator_headers, *INCIDENT)
    path = f"/incidents/{incident['id']}"
    await client.patch(path, headers=operator_headers, json={"notes": "Flat 3, Virtanen"})
    await client.post(
        f"{path}/close", headers=operator_headers, json={"reason": "other", "note": "Mr Virtanen"}
    )
    await app.state.db.execute("UPDATE incidents SET ended_at = now() - interval '31 days'")
    async with app.state.db.transaction() as conn:
        purged = await purge(conn, PrivacySettings())
    assert purged.incidents == 1
    detail = (await client.get(path, headers=operator_headers)).json()
    assert "Virtanen" not in str(detail)
    assert detail["end_note"] is None and detail["end_reason"] == "other"
    [corrected] = _events(detail, "corrected")
    assert corrected["detail"] == {"changed": ["notes"]}, "what changed stays, not the texts"
    assert _events(detail, "closed")[0]["detail"] == {"reason": "other"}
