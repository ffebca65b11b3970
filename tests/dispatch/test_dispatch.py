"""Selection on the real street network of central Helsinki, on the real PostGIS."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from fastapi import FastAPI

from responders.dispatch import store
from responders.dispatch.store import CandidateQuery
from routing import GraphRouter, Point, Router
from tests.helpers import INCIDENT, alerted, offset, place_volunteer, report

# A barrier on the real street network. The extract holds no water within its bounds, but the
# railway yard north of the central station is one too (DESIGN.md §4: "a river or railway"):
# from Kaisaniemenranta (east of the yard, ~330 m from the incident on Töölönlahdenkatu) the
# walk goes round by the station, ~1.7 km; from Elielinaukio (~520 m, same side) it is short.
BARRIER_CASE = (
    (60.176346, 24.944158),  # across the yard: nearer as the crow flies
    (60.171355, 24.939179),  # same side: farther, but a short walk
    (60.176050, 24.938268),  # the incident
)


async def test_a_dispatch_alerts_nearby_volunteers(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    near, _ = await place_volunteer(client, *offset(*INCIDENT, 100, 0))
    far, _ = await place_volunteer(client, *offset(*INCIDENT, 0, 400))
    incident = await report(client, operator_headers, *INCIDENT)
    assert incident["status"] == "active" and incident["wave"] == 1
    alerts = alerted(incident)
    assert set(alerts) == {near, far}
    assert alerts[near]["walk_seconds"] < alerts[far]["walk_seconds"]
    assert [e["kind"] for e in incident["timeline"]][:2] == ["reported", "alert_queued"]


async def test_walking_time_not_straight_line_decides(
    client: httpx.AsyncClient, operator_headers: dict[str, str], helsinki_router: Router
) -> None:
    across, same_side, incident = BARRIER_CASE
    straight_across, straight_same = _metres(incident, across), _metres(incident, same_side)
    assert straight_across < straight_same  # the premise: nearer as the crow flies
    assert isinstance(helsinki_router, GraphRouter)  # the real street network
    walk = helsinki_router.times_to(Point(*incident), [Point(*across), Point(*same_side)], 3000)
    walk_across, walk_same = walk
    assert walk_across is not None and walk_same is not None
    assert walk_across > walk_same
    a, _ = await place_volunteer(client, *across)
    b, _ = await place_volunteer(client, *same_side)
    alerts = alerted(await report(client, operator_headers, *incident))
    assert alerts[b]["walk_seconds"] < alerts[a]["walk_seconds"]
    order = sorted(alerts, key=lambda rid: alerts[rid]["walk_seconds"])
    assert order.index(b) < order.index(a)
    assert alerts[b]["role"] == "direct"


def _metres(p: tuple[float, float], q: tuple[float, float]) -> float:
    import math

    dlat = math.radians(q[0] - p[0])
    dlon = math.radians(q[1] - p[1]) * math.cos(math.radians(p[0]))
    return 6_371_000 * math.hypot(dlat, dlon)


async def test_ineligible_volunteers_are_never_alerted(
    client: httpx.AsyncClient, operator_headers: dict[str, str], app: FastAPI
) -> None:
    spot = offset(*INCIDENT, 120, 0)
    eligible, _ = await place_volunteer(client, *spot, name="eligible")
    _, paused = await place_volunteer(client, *spot, name="paused")
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).isoformat()
    await client.put("/responders/me/availability", headers=paused, json={"paused_until": until})
    expired, _ = await place_volunteer(client, *spot, name="expired qualification")
    wrong_kind, _ = await place_volunteer(client, *spot, qualifications=("nurse",))
    stale, _ = await place_volunteer(client, *spot, name="stale location")
    await place_volunteer(client, *spot, live=False, name="home, no window now")
    await place_volunteer(client, *offset(*INCIDENT, 0, 1500), name="beyond the radius")
    async with app.state.db.transaction() as conn:
        await conn.execute(
            "UPDATE qualifications SET expires_on = current_date - 1 WHERE responder_id = %(id)s",
            {"id": expired},
        )
        await conn.execute(
            "UPDATE live_locations SET updated_at = now() - interval '2 hours' "
            "WHERE responder_id = %(id)s",
            {"id": stale},
        )
    # "nurse" qualifies for cardiac arrest, so this volunteer is eligible too ...
    incident = await report(client, operator_headers, *INCIDENT)
    assert set(alerted(incident)) == {eligible, wrong_kind}
    # ... and both are now busy on that incident, so a second one alerts nobody of them.
    second = await report(client, operator_headers, *offset(*INCIDENT, 50, 50))
    assert alerted(second) == {}


async def test_qualification_must_fit_the_incident(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    spot = offset(*INCIDENT, 80, 0)
    cpr_only, _ = await place_volunteer(client, *spot, qualifications=("cpr_aed",))
    first_aid, _ = await place_volunteer(client, *spot, qualifications=("first_aid",))
    incident = await report(client, operator_headers, *INCIDENT, kind="bleeding")
    assert set(alerted(incident)) == {first_aid}
    assert cpr_only not in alerted(incident)


async def test_home_place_counts_only_inside_its_window(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    everyday = [
        {
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "start": "00:00",
            "end": "24:00",
        }
    ]
    home, _ = await place_volunteer(
        client, *offset(*INCIDENT, 150, 0), live=False, windows=everyday
    )
    incident = await report(client, operator_headers, *INCIDENT)
    assert set(alerted(incident)) == {home}
    assert alerted(incident)[home]["origin"]["type"] == "Point"


@pytest.mark.dispatch(daily_alert_cap=1)
async def test_daily_alert_cap(client: httpx.AsyncClient, operator_headers: dict[str, str]) -> None:
    volunteer, headers = await place_volunteer(client, *offset(*INCIDENT, 100, 0))
    first = await report(client, operator_headers, *INCIDENT)
    alert_id = alerted(first)[volunteer]["id"]
    await client.post(f"/alerts/{alert_id}/decline", headers=headers)
    await client.post(
        f"/incidents/{first['id']}/close",
        headers=operator_headers,
        json={"reason": "ems_took_over"},
    )
    second = await report(client, operator_headers, *INCIDENT)
    assert alerted(second) == {}


async def test_outside_the_graph_is_refused(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    response = await client.post(
        "/incidents",
        headers=operator_headers,
        json={"kind": "cardiac_arrest", "location": {"lat": 52.37, "lon": 4.89}},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "outside_coverage"
    assert response.json()["field"] == "body.location"


async def test_citizen_report_alerts_nobody_until_confirmed(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    volunteer, _ = await place_volunteer(client, *offset(*INCIDENT, 100, 0))
    response = await client.post(
        "/reports",
        json={
            "kind": "unconscious",
            "location": {"lat": INCIDENT[0], "lon": INCIDENT[1]},
            "callback_phone": "+358 40 555 1234",
        },
    )
    assert response.status_code == 201, response.text
    assert "112" in response.json()["message"]
    incident_id = response.json()["id"]
    waiting = (await client.get(f"/incidents/{incident_id}", headers=operator_headers)).json()
    assert waiting["status"] == "triage" and waiting["alerts"] == []
    triage = await client.get("/incidents", params={"status": "triage"}, headers=operator_headers)
    assert [i["id"] for i in triage.json()] == [incident_id]
    confirmed = await client.post(f"/incidents/{incident_id}/confirm", headers=operator_headers)
    assert confirmed.status_code == 200
    assert confirmed.json()["status"] == "active"
    assert set(alerted(confirmed.json())) == {volunteer}


async def test_a_volunteer_on_scene_is_busy(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    on_scene, headers = await place_volunteer(client, *offset(*INCIDENT, 60, 0))
    first = await report(client, operator_headers, *INCIDENT)
    alert_id = alerted(first)[on_scene]["id"]
    for action in ("accept", "arrived"):
        answered = await client.post(f"/alerts/{alert_id}/{action}", headers=headers)
        assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "arrived"
    free, _ = await place_volunteer(client, *offset(*INCIDENT, 260, 0))
    # A report 200 m away, while the first incident is still open: the volunteer doing CPR
    # there is not alerted, the free one is.
    second = await report(client, operator_headers, *offset(*INCIDENT, 200, 0))
    assert set(alerted(second)) == {free}


async def test_the_busy_probe_reads_the_index_of_alerts_in_play(app: FastAPI) -> None:
    """The busy statuses of the candidate query and of `alerts_busy_idx` must agree, or the
    planner falls back to each volunteer's whole history."""
    query = CandidateQuery(
        incident_id=1,
        kind="cardiac_arrest",
        lat=INCIDENT[0],
        lon=INCIDENT[1],
        radius_m=1000,
        limit=120,
        minute_of_week=0,
        live_max_age_s=900,
        daily_cap=5,
    )
    async with app.state.db.transaction() as conn:
        # On the tests' near-empty tables a scan would be cheapest: rule it out, so that
        # the plan shows which index the probe can use at all.
        await conn.execute("SET LOCAL enable_seqscan = off")
        params = store._candidate_params(query)
        for sql in (store._LIVE_CANDIDATES, store._PLACED_CANDIDATES):
            plan = await conn.scalar(f"EXPLAIN (FORMAT JSON) {sql}", params)
            assert "alerts_busy_idx" in _indexes(plan)


def _indexes(plan: object) -> set[str]:
    """Every index named in an EXPLAIN (FORMAT JSON) plan."""
    if isinstance(plan, list):
        return set().union(*(_indexes(p) for p in plan))
    if isinstance(plan, dict):
        named = {plan["Index Name"]} if "Index Name" in plan else set()
        return named.union(*(_indexes(v) for v in plan.values()))
    return set()
