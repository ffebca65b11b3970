"""Privacy: export, logout, retention purges, erase, and logs without personal data."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from responders.api import create_app
from responders.privacy import purge
from responders.registry.operators import create_operator
from responders.settings import PrivacySettings, Settings
from tests.api.test_responders import register
from tests.helpers import alerted, offset, place_volunteer, report

INCIDENT = (60.1735, 24.9445)
NEARBY = (60.1744, 24.9445)


async def test_export_holds_everything_about_me_and_nothing_secret(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    rid, headers = await place_volunteer(client, *NEARBY)
    await report(client, operator_headers, *INCIDENT)
    export = await client.get("/responders/me/export", headers=headers)
    assert export.status_code == 200
    body = export.json()
    assert body["profile"]["id"] == rid
    assert body["profile"]["live_location"]["location"]["coordinates"] == [NEARBY[1], NEARBY[0]]
    assert [a["incident"]["kind"] for a in body["alerts"]] == ["cardiac_arrest"]
    assert body["tokens"][0]["revoked_at"] is None
    assert "token_hash" not in export.text
    assert headers["Authorization"].split()[1] not in export.text


async def test_logout_revokes_the_device_token(client: httpx.AsyncClient) -> None:
    _, headers = await register(client)
    assert (await client.post("/responders/me/logout", headers=headers)).status_code == 204
    assert (await client.get("/responders/me", headers=headers)).status_code == 401
    put = await client.put(
        "/responders/me/location",
        headers=headers,
        json={"lat": 60.17, "lon": 24.94, "accuracy_m": 5},
    )
    assert put.status_code == 401


async def test_retention_purge(
    client: httpx.AsyncClient, operator_headers: dict[str, str], app: FastAPI
) -> None:
    await place_volunteer(client, *NEARBY)
    incident = await report(client, operator_headers, *INCIDENT)
    await client.post(
        f"/incidents/{incident['id']}/close",
        headers=operator_headers,
        json={"reason": "ems_took_over"},
    )
    async with app.state.db.transaction() as conn:
        await conn.execute("UPDATE live_locations SET updated_at = now() - interval '2 h'")
        await conn.execute("UPDATE incidents SET ended_at = now() - interval '31 days'")
        await conn.execute(
            "INSERT INTO incident_events (incident_id, kind, detail) VALUES "
            "(%(id)s, 'wave_started', "
            ' \'{"unreachable": [{"responder_id": 1}], "alerted": 1}\')',
            {"id": incident["id"]},
        )
    async with app.state.db.transaction() as db_conn:
        purged = await purge(db_conn, PrivacySettings())
    assert (purged.live_locations, purged.incidents, purged.alerts) == (1, 1, 1)
    detail = (await client.get(f"/incidents/{incident['id']}", headers=operator_headers)).json()
    assert detail["address"] is None
    [alert] = detail["alerts"]
    assert alert["route"] is None and alert["origin"] is None and alert["responder_id"] is None
    assert alert["status"] == "stood_down", "the anonymous timeline and outcome stay"
    assert len(detail["timeline"]) >= 3
    assert all("unreachable" not in e["detail"] for e in detail["timeline"])
    async with app.state.db.transaction() as db_conn:
        again = await purge(db_conn, PrivacySettings())
    assert (again.incidents, again.alerts) == (0, 0)


async def test_erase_scrubs_alert_positions(
    client: httpx.AsyncClient, operator_headers: dict[str, str], app: FastAPI
) -> None:
    rid, headers = await place_volunteer(client, *NEARBY)
    incident = await report(client, operator_headers, *INCIDENT)
    assert rid in alerted(incident)
    assert (await client.delete("/responders/me", headers=headers)).status_code == 204
    detail = (await client.get(f"/incidents/{incident['id']}", headers=operator_headers)).json()
    [alert] = detail["alerts"]
    assert alert["responder_id"] is None and alert["responder_name"] is None
    assert alert["origin"] is None and alert["route"] is None


async def test_logs_hold_no_tokens_phones_or_positions(
    client: httpx.AsyncClient, operator_headers: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    phone = "+358 40 987 6543"
    _, headers = await register(client, phone=phone)
    await client.put(
        "/responders/me/location",
        headers=headers,
        json={"lat": 60.171234, "lon": 24.941234, "accuracy_m": 5},
    )
    await client.get(
        "/route", headers=headers, params={"from": "60.171234,24.941234", "to": "60.1701,24.9401"}
    )
    await client.post("/responders", json={"bad": "body", "phone": phone})
    await client.post(
        "/responders",
        json={  # a conflict: IntegrityError inside
            "name": "x",
            "phone": phone,
            "email": "aino@example.org",
            "qualifications": [{"kind": "cpr_aed", "expires_on": "2030-01-01"}],
        },
    )
    token = headers["Authorization"].split()[1]
    # The service's records only: the test's own HTTP client logs its URLs, as clients do.
    logged = "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))
    )
    assert "PUT /responders/me/location 204" in logged, "the access log is on"
    for secret in (token, phone, "60.171234", "24.941234", operator_headers["Authorization"]):
        assert secret not in logged


# ---------- cabinet codes and addresses: what an alert shows, on every route ----------

CODE = "2468"


async def _alert_views(
    client: httpx.AsyncClient, headers: dict[str, str], alert_id: int
) -> list[dict[str, Any]]:
    """The alert as each route that returns alert data shows it to its volunteer."""
    one = (await client.get(f"/alerts/{alert_id}", headers=headers)).json()
    listed = next(
        a for a in (await client.get("/alerts", headers=headers)).json() if a["id"] == alert_id
    )
    export = (await client.get("/responders/me/export", headers=headers)).json()
    exported = next(a for a in export["alerts"] if a["id"] == alert_id)
    return [one, listed, exported]


def _codes(views: list[dict[str, Any]]) -> set[str | None]:
    return {(v["aed"] or {}).get("cabinet_code") for v in views}


async def _fetchers(
    client: httpx.AsyncClient, operator_headers: dict[str, str], coordinator_headers: dict[str, str]
) -> tuple[dict[str, Any], dict[int, dict[str, str]]]:
    """An incident with one AED and several volunteers sent to fetch it."""
    lat, lon = offset(*INCIDENT, 150, -60)
    aed = await client.post(
        "/aeds",
        headers=coordinator_headers,
        json={"location": {"lat": lat, "lon": lon}, "access": "public", "cabinet_code": CODE},
    )
    assert aed.status_code == 201, aed.text
    volunteers = {}
    for north, east in [(40, 0), (-200, 0), (200, 0), (0, 200), (0, -200), (250, 100), (180, -150)]:
        rid, headers = await place_volunteer(client, *offset(*INCIDENT, north, east))
        volunteers[rid] = headers
    incident = await report(client, operator_headers, *INCIDENT)
    via = [a for a in incident["alerts"] if a["role"] == "via_aed"]
    assert len(via) >= 2 and {a["aed_id"] for a in via} == {aed.json()["id"]}
    return incident, volunteers


async def test_cabinet_code_only_to_a_fetcher_who_accepted_while_open(
    client: httpx.AsyncClient,
    operator_headers: dict[str, str],
    coordinator_headers: dict[str, str],
) -> None:
    incident, volunteers = await _fetchers(client, operator_headers, coordinator_headers)
    taker, decliner = [a for a in incident["alerts"] if a["role"] == "via_aed"][:2]
    direct = next(a for a in incident["alerts"] if a["role"] == "direct")
    taker_headers = volunteers[taker["responder_id"]]
    decliner_headers = volunteers[decliner["responder_id"]]

    # Before an answer: the AED and where it is, but no code, on every route.
    for alert, headers in ((taker, taker_headers), (decliner, decliner_headers)):
        views = await _alert_views(client, headers, alert["id"])
        assert _codes(views) == {None}, "not before accepting"
        assert all(v["aed"]["location"] for v in views), "the fetcher can still find the AED"
    direct_views = await _alert_views(client, volunteers[direct["responder_id"]], direct["id"])
    assert {str(v["aed"]) for v in direct_views} == {"None"}

    accepted = await client.post(f"/alerts/{taker['id']}/accept", headers=taker_headers)
    assert accepted.json() == {"id": taker["id"], "status": "accepted"}
    declined = await client.post(f"/alerts/{decliner['id']}/decline", headers=decliner_headers)
    assert CODE not in declined.text
    assert _codes(await _alert_views(client, taker_headers, taker["id"])) == {CODE}
    assert _codes(await _alert_views(client, decliner_headers, decliner["id"])) == {None}

    arrived = await client.post(f"/alerts/{taker['id']}/arrived", headers=taker_headers)
    assert arrived.json()["status"] == "arrived"
    assert _codes(await _alert_views(client, taker_headers, taker["id"])) == {CODE}

    closed = await client.post(
        f"/incidents/{incident['id']}/close",
        headers=operator_headers,
        json={"reason": "ems_took_over"},
    )
    assert closed.status_code == 200 and CODE not in closed.text
    assert _codes(await _alert_views(client, taker_headers, taker["id"])) == {None}, "not after"


async def test_export_hides_the_incident_until_accepted_where_configured(
    settings: Settings,
    helsinki_router: Any,
    clean_db: Any,
) -> None:
    configured = settings.model_copy(
        update={"api": settings.api.model_copy(update={"address_after_accept": True})}
    )
    late = create_app(configured, router=helsinki_router)
    async with (
        late.router.lifespan_context(late),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=late), base_url="http://t") as http,
    ):
        operator = await create_operator(late.state.db, "late", "operator")
        rid, headers = await place_volunteer(http, *NEARBY)
        incident = await report(http, {"Authorization": f"Bearer {operator.token}"}, *INCIDENT)
        alert_id = alerted(incident)[rid]["id"]
        await http.get(f"/alerts/{alert_id}", headers=headers)  # draws and stores its route
        for view in await _alert_views(http, headers, alert_id):
            assert view["incident"]["location"] is None and view["incident"]["address"] is None
            assert view["route"] is None
        export = await http.get("/responders/me/export", headers=headers)
        assert "Testikatu" not in export.text and str(INCIDENT[0]) not in export.text
        await http.post(f"/alerts/{alert_id}/accept", headers=headers)
        for view in await _alert_views(http, headers, alert_id):
            assert view["incident"]["address"] == "Testikatu 1"
            assert view["route"]["geometry"]["type"] == "LineString"
