"""Privacy: export, logout, retention purges, erase, and logs without personal data."""

from __future__ import annotations

import logging

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from responders.privacy import purge
from responders.settings import PrivacySettings
from tests.api.test_responders import register
from tests.dispatch.conftest import alerted, place_volunteer, report

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
    await client.post(f"/incidents/{incident['id']}/close", headers=operator_headers)
    engine = app.state.engine
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE live_locations SET updated_at = now() - interval '2 h'"))
        await conn.execute(text("UPDATE incidents SET ended_at = now() - interval '31 days'"))
        await conn.execute(
            text(
                "INSERT INTO incident_events (incident_id, kind, detail) VALUES "
                "(:id, 'wave_started', "
                ' \'{"unreachable": [{"responder_id": 1}], "alerted": 1}\')'
            ),
            {"id": incident["id"]},
        )
        purged = await purge(conn, PrivacySettings())
    assert (purged.live_locations, purged.incidents, purged.alerts) == (1, 1, 1)
    detail = (await client.get(f"/incidents/{incident['id']}", headers=operator_headers)).json()
    assert detail["address"] is None
    [alert] = detail["alerts"]
    assert alert["route"] is None and alert["origin"] is None and alert["responder_id"] is None
    assert alert["status"] == "stood_down", "the anonymous timeline and outcome stay"
    assert len(detail["timeline"]) >= 3
    assert all("unreachable" not in e["detail"] for e in detail["timeline"])
    async with engine.begin() as conn:
        again = await purge(conn, PrivacySettings())
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
