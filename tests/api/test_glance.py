"""What the console shows at a glance (issue 14, item 4): who the operator may call, when a
volunteer accepted and where they are now, and the hints at duplicate citizen reports.
The rules are enforced by the API's SQL, so they are tested on its answers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
from fastapi import FastAPI

from tests.helpers import INCIDENT, alerted, offset, place_volunteer, report

PHONE = "+358400000000"


async def _answer(
    client: httpx.AsyncClient, headers: dict[str, str], alert_id: int, action: str
) -> None:
    response = await client.post(f"/alerts/{alert_id}/{action}", headers=headers)
    assert response.status_code == 200, response.text


async def _detail(
    client: httpx.AsyncClient, operator_headers: dict[str, str], incident_id: int
) -> dict[int, dict[str, Any]]:
    response = await client.get(f"/incidents/{incident_id}", headers=operator_headers)
    assert response.status_code == 200, response.text
    return alerted(response.json())


async def test_phones_only_of_those_on_the_way_while_open(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    people = [
        await place_volunteer(client, *offset(*INCIDENT, north, 0)) for north in (120, 200, 280)
    ]
    (going, going_h), (declining, declining_h), (silent, _) = people
    incident = await report(client, operator_headers, *INCIDENT)
    alerts = alerted(incident)
    assert {going, declining, silent} <= alerts.keys()
    assert all(a["phone"] is None for a in incident["alerts"]), "nobody has answered yet"

    await _answer(client, going_h, alerts[going]["id"], "accept")
    await _answer(client, declining_h, alerts[declining]["id"], "decline")
    shown = await _detail(client, operator_headers, incident["id"])
    assert shown[going]["phone"] == PHONE
    assert shown[declining]["phone"] is None
    assert shown[silent]["phone"] is None

    await _answer(client, going_h, alerts[going]["id"], "arrived")
    assert (await _detail(client, operator_headers, incident["id"]))[going]["phone"] == PHONE

    closed = await client.post(
        f"/incidents/{incident['id']}/close",
        headers=operator_headers,
        json={"reason": "ems_took_over"},
    )
    assert closed.status_code == 200, closed.text
    assert [a["phone"] for a in closed.json()["alerts"]] == [None] * len(alerts)
    after = await _detail(client, operator_headers, incident["id"])
    assert after[going]["status"] == "arrived" and after[going]["phone"] is None
    assert (
        PHONE
        not in (await client.get(f"/incidents/{incident['id']}", headers=operator_headers)).text
    )


async def test_accepted_at_and_live_position_newer_than_the_acceptance(
    client: httpx.AsyncClient, operator_headers: dict[str, str], app: FastAPI
) -> None:
    (going, going_h), (waiting, waiting_h) = [
        await place_volunteer(client, *offset(*INCIDENT, north, 0)) for north in (150, 250)
    ]
    incident = await report(client, operator_headers, *INCIDENT)
    alerts = alerted(incident)
    assert all(a["accepted_at"] is None and a["live"] is None for a in incident["alerts"])

    before = dt.datetime.now(dt.UTC)
    await _answer(client, going_h, alerts[going]["id"], "accept")
    shown = await _detail(client, operator_headers, incident["id"])
    accepted_at = dt.datetime.fromisoformat(shown[going]["accepted_at"])
    assert before - dt.timedelta(seconds=5) <= accepted_at <= dt.datetime.now(dt.UTC)
    assert accepted_at >= dt.datetime.fromisoformat(shown[going]["created_at"])
    assert shown[waiting]["accepted_at"] is None
    # Their live location is from before the acceptance: the ETA counts from acceptance.
    assert shown[going]["live"] is None and shown[going]["live_at"] is None

    # Both move on; only the one on the way is shown where they are now.
    here = offset(*INCIDENT, 80, 10)
    for headers in (going_h, waiting_h):
        moved = await client.put(
            "/responders/me/location",
            headers=headers,
            json={"lat": here[0], "lon": here[1], "accuracy_m": 8},
        )
        assert moved.status_code == 204
    shown = await _detail(client, operator_headers, incident["id"])
    assert shown[going]["live"]["coordinates"] == [round(here[1], 7), round(here[0], 7)]
    assert dt.datetime.fromisoformat(shown[going]["live_at"]) > accepted_at
    assert shown[waiting]["live"] is None and shown[waiting]["live_at"] is None

    # On scene, or the incident over: no live position any more.
    await app.state.db.execute(
        "UPDATE incidents SET status = 'closed', ended_at = now() WHERE id = %(id)s",
        {"id": incident["id"]},
    )
    shown = await _detail(client, operator_headers, incident["id"])
    assert shown[going]["live"] is None and shown[going]["phone"] is None
    assert shown[going]["accepted_at"] is not None, "the acceptance is history: it stays"


async def _citizen(client: httpx.AsyncClient, spot: tuple[float, float]) -> int:
    response = await client.post(
        "/reports", json={"kind": "unconscious", "location": {"lat": spot[0], "lon": spot[1]}}
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def _backdate(app: FastAPI, incident_id: int, minutes: float) -> None:
    await app.state.db.execute(
        "UPDATE incidents SET created_at = now() - make_interval(mins => %(m)s) WHERE id = %(id)s",
        {"id": incident_id, "m": minutes},
    )


async def _hints(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> dict[int, list[dict[str, Any]]]:
    response = await client.get("/incidents?status=open", headers=operator_headers)
    assert response.status_code == 200, response.text
    return {i["id"]: i["duplicate_hints"] for i in response.json()}


async def test_duplicate_hints_within_200_m_and_30_minutes(
    client: httpx.AsyncClient, operator_headers: dict[str, str], app: FastAPI
) -> None:
    first = await _citizen(client, INCIDENT)
    near = await _citizen(client, offset(*INCIDENT, 150, 0))
    too_far = await _citizen(client, offset(*INCIDENT, 0, -260))
    earlier = await _citizen(client, offset(*INCIDENT, -60, 0))
    too_early = await _citizen(client, offset(*INCIDENT, 0, -50))
    await _backdate(app, earlier, 25)
    await _backdate(app, too_early, 35)
    # An open incident of the dispatcher's near it counts; a closed one does not.
    open_one = (await report(client, operator_headers, *offset(*INCIDENT, 0, 100)))["id"]
    closed_one = (await report(client, operator_headers, *offset(*INCIDENT, 30, 30)))["id"]
    closing = await client.post(
        f"/incidents/{closed_one}/close", headers=operator_headers, json={"reason": "ems_took_over"}
    )
    assert closing.status_code == 200
    # A citizen report is a hint whatever became of it (cancelled as the duplicate it was).
    cancelled = await _citizen(client, offset(*INCIDENT, 40, 0))
    cancel = await client.post(
        f"/incidents/{cancelled}/cancel", headers=operator_headers, json={"reason": "duplicate"}
    )
    assert cancel.status_code == 200

    hints = await _hints(client, operator_headers)
    got = {h["id"]: h for h in hints[first]}
    assert set(got) == {near, earlier, open_one, cancelled}, got
    assert 140 < got[near]["distance_m"] < 160
    assert 90 < got[open_one]["distance_m"] < 110
    assert (got[open_one]["source"], got[open_one]["status"]) == ("dispatch", "active")
    assert (got[cancelled]["source"], got[cancelled]["status"]) == ("citizen", "cancelled")
    assert hints[first][0]["id"] == earlier, "oldest first"
    # Symmetric: the far one has none; the one 25 minutes earlier sees the first; the one
    # 35 minutes earlier sees only what is within 30 minutes of it (the one at 25).
    assert hints[too_far] == []
    assert first in {h["id"] for h in hints[earlier]}
    assert {h["id"] for h in hints[too_early]} == {earlier}
    # Only reports in triage carry hints (the dispatcher's own incident is decided).
    assert hints[open_one] == []
    detail = (await client.get(f"/incidents/{first}", headers=operator_headers)).json()
    assert detail["duplicate_hints"] == []


async def test_duplicate_limits_are_settings(
    client: httpx.AsyncClient, operator_headers: dict[str, str], app: FastAPI
) -> None:
    first = await _citizen(client, INCIDENT)
    second = await _citizen(client, offset(*INCIDENT, 150, 0))
    dispatch = app.state.settings.dispatch
    app.state.settings = app.state.settings.model_copy(
        update={"dispatch": dispatch.model_copy(update={"duplicate_radius_m": 100.0})}
    )
    try:
        hints = await _hints(client, operator_headers)
    finally:
        app.state.settings = app.state.settings.model_copy(update={"dispatch": dispatch})
    assert hints[first] == [] and hints[second] == []
