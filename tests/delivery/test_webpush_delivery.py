"""Web Push end to end without a browser (issue 15, acceptance): a volunteer registers a
subscription with keys the test made and an endpoint on the local push service; the real
outbox worker sends each alert, stand-down and failure over it like over FCM."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from responders.delivery import OutboxWorker
from responders.emulators.fcm import FcmServerState
from responders.emulators.webpush import (
    ReceivedPush,
    SubscriberKeys,
    WebPushServerState,
    WebPushServerThread,
    create_subscription,
)
from tests.delivery.conftest import alert_rows, outbox_count
from tests.helpers import FUTURE, INCIDENT, alerted, offset, place_volunteer, report


async def _add_subscription(
    client: httpx.AsyncClient,
    server: WebPushServerThread,
    state: WebPushServerState,
    headers: dict[str, str],
) -> tuple[str, SubscriberKeys]:
    """A Web Push device on the local push service, keys made here: (subscription id, keys)."""
    keys = SubscriberKeys.generate()
    endpoint = create_subscription(state, server.url, keys)
    device = {"kind": "webpush", "subscription": keys.subscription(endpoint)}
    added = await client.post("/responders/me/devices", headers=headers, json=device)
    assert added.status_code == 201, added.text
    return endpoint.rsplit("/", 1)[1], keys


async def _webpush_volunteer(
    client: httpx.AsyncClient,
    server: WebPushServerThread,
    state: WebPushServerState,
    lat: float,
    lon: float,
) -> tuple[int, dict[str, str], str, SubscriberKeys]:
    """A live volunteer at (lat, lon) whose only device is a Web Push subscription:
    (id, headers, subscription id, keys)."""
    body = {
        "name": "Web Volunteer",
        "phone": "+358 40 000 0000",
        "email": f"web-{time.monotonic_ns()}@example.org",
        "qualifications": [{"kind": "cpr_aed", "expires_on": FUTURE}],
    }
    registered = await client.post("/responders", json=body)
    assert registered.status_code == 201, registered.text
    responder_id = int(registered.json()["responder"]["id"])
    headers = {"Authorization": f"Bearer {registered.json()['token']}"}
    where = {"lat": lat, "lon": lon, "accuracy_m": 10}
    located = await client.put("/responders/me/location", headers=headers, json=where)
    assert located.status_code == 204
    sub_id, keys = await _add_subscription(client, server, state, headers)
    return responder_id, headers, sub_id, keys


def _payloads(state: WebPushServerState, sub_id: str, keys: SubscriberKeys) -> list[Any]:
    return [json.loads(keys.decrypt(m.body)) for m in state.messages(sub_id)]


async def _first_push(state: WebPushServerState, sub_id: str, within_s: float) -> ReceivedPush:
    deadline = time.monotonic() + within_s
    while not (received := state.messages(sub_id)):
        assert time.monotonic() < deadline, f"no push reached the service within {within_s} s"
        await asyncio.sleep(0.01)
    return received[0]


async def _device_count(engine: AsyncEngine, kind: str) -> int:
    async with engine.connect() as conn:
        query = text("SELECT count(*) FROM devices WHERE kind = :kind")
        return int((await conn.execute(query, {"kind": kind})).scalar_one())


async def test_an_incident_reaches_a_web_push_device_within_two_seconds(
    client: httpx.AsyncClient,
    operator_headers: dict[str, str],
    worker: OutboxWorker,
    webpush_server: WebPushServerThread,
    webpush_state: WebPushServerState,
    clean_db: AsyncEngine,
) -> None:
    rid, _, sub_id, keys = await _webpush_volunteer(
        client, webpush_server, webpush_state, *offset(*INCIDENT, 80, 0)
    )
    running = asyncio.create_task(worker.run())  # woken by the outbox's NOTIFY, as deployed
    try:
        await asyncio.sleep(0.2)  # listening
        started = time.monotonic()
        incident = await report(client, operator_headers, *INCIDENT)
        received = await _first_push(webpush_state, sub_id, within_s=2.0)
        took = time.monotonic() - started
    finally:
        worker.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await running
    alert = alerted(incident)[rid]
    assert took < 2.0
    # Encrypted for this subscription's keys alone, VAPID-signed (the service checked the JWT
    # against our key and audience before it took the message), urgent and short-lived.
    payload = json.loads(keys.decrypt(received.body))
    assert payload["v"] == "1" and payload["kind"] == "alert"
    assert payload["alert_id"] == str(alert["id"])
    assert payload["incident_id"] == str(incident["id"]) and payload["role"] == "direct"
    assert payload["url"] == f"/app#/alerts/{alert['id']}"
    assert "Testikatu" not in json.dumps(payload), "no address travels in a push"
    assert received.urgency == "high" and received.topic == f"incident-{incident['id']}"
    assert 0 < received.ttl <= 300
    status, message_id, _ = (await alert_rows(clean_db))[alert["id"]]
    assert status == "sent" and message_id == f"/message/{received.id}"


async def test_a_gone_subscription_is_deleted_and_its_alert_replaced(
    client: httpx.AsyncClient,
    operator_headers: dict[str, str],
    worker: OutboxWorker,
    webpush_server: WebPushServerThread,
    webpush_state: WebPushServerState,
    clean_db: AsyncEngine,
) -> None:
    rid, _, sub_id, _ = await _webpush_volunteer(
        client, webpush_server, webpush_state, *offset(*INCIDENT, 80, 0)
    )
    webpush_state.fail_next(410, subscription=sub_id)
    incident = await report(client, operator_headers, *INCIDENT)
    await worker.drain()
    assert await _device_count(clean_db, "webpush") == 0
    status, _, error = (await alert_rows(clean_db))[alerted(incident)[rid]["id"]]
    assert status == "failed" and "WEBPUSH_410" in (error or "")
    async with clean_db.connect() as conn:
        due = (await conn.execute(text("SELECT replacements_due FROM incidents"))).scalar_one()
    assert due == 1, "a failed push is replaced like a decline"


async def test_a_volunteer_with_both_channels_gets_the_alert_on_both(
    client: httpx.AsyncClient,
    operator_headers: dict[str, str],
    worker: OutboxWorker,
    fcm: FcmServerState,
    webpush_server: WebPushServerThread,
    webpush_state: WebPushServerState,
    clean_db: AsyncEngine,
) -> None:
    both, headers = await place_volunteer(client, *offset(*INCIDENT, 80, 0))  # an FCM phone
    await _add_subscription(client, webpush_server, webpush_state, headers)
    fcm_only, _ = await place_volunteer(client, *offset(*INCIDENT, -80, 0))
    incident = await report(client, operator_headers, *INCIDENT)
    await worker.drain()
    alerts = alerted(incident)
    by_fcm = {int(m.message["data"]["alert_id"]) for m in fcm.messages()}
    assert by_fcm == {alerts[both]["id"], alerts[fcm_only]["id"]}
    [web] = [m for m in webpush_state.messages()]
    sub = webpush_state.subscription(web.subscription)
    assert sub is not None and sub.keys is not None
    assert json.loads(sub.keys.decrypt(web.body))["alert_id"] == str(alerts[both]["id"])
    rows = await alert_rows(clean_db)
    assert rows[alerts[both]["id"]][0] == rows[alerts[fcm_only]["id"]][0] == "sent"
    assert await outbox_count(clean_db) == 0


async def test_a_stand_down_reaches_the_web_push_device(
    client: httpx.AsyncClient,
    operator_headers: dict[str, str],
    worker: OutboxWorker,
    webpush_server: WebPushServerThread,
    webpush_state: WebPushServerState,
) -> None:
    rid, _, sub_id, keys = await _webpush_volunteer(
        client, webpush_server, webpush_state, *offset(*INCIDENT, 80, 0)
    )
    incident = await report(client, operator_headers, *INCIDENT)
    await worker.drain()
    cancelled = await client.post(
        f"/incidents/{incident['id']}/cancel",
        headers=operator_headers,
        json={"reason": "ems_on_scene", "note": "Crew 12 with the patient, flat 3"},
    )
    assert cancelled.status_code == 200, cancelled.text
    await worker.drain()
    alert_id = str(alerted(incident)[rid]["id"])
    kinds = [(p["kind"], p["alert_id"]) for p in _payloads(webpush_state, sub_id, keys)]
    assert kinds == [("alert", alert_id), ("stand_down", alert_id)]
    stand_down = _payloads(webpush_state, sub_id, keys)[1]
    assert stand_down["reason"] == "ems_on_scene" and "role" not in stand_down
    assert "flat 3" not in json.dumps(stand_down)
    assert webpush_state.messages(sub_id)[1].topic == f"incident-{incident['id']}"


async def test_a_busy_push_service_is_retried_after_its_retry_after(
    client: httpx.AsyncClient,
    operator_headers: dict[str, str],
    worker: OutboxWorker,
    webpush_server: WebPushServerThread,
    webpush_state: WebPushServerState,
    clean_db: AsyncEngine,
) -> None:
    rid, _, sub_id, _ = await _webpush_volunteer(
        client, webpush_server, webpush_state, *offset(*INCIDENT, 80, 0)
    )
    webpush_state.fail_next(429, subscription=sub_id, retry_after_s=2)
    incident = await report(client, operator_headers, *INCIDENT)
    await worker.drain()
    async with clean_db.connect() as conn:
        wait = (
            await conn.execute(text("SELECT EXTRACT(EPOCH FROM available_at - now()) FROM outbox"))
        ).scalar_one()
    assert 1.5 < float(wait) <= 2.1, "not sooner than the push service's Retry-After"
    assert webpush_state.messages(sub_id) == []
    await asyncio.sleep(float(wait))
    await worker.drain()
    assert len(webpush_state.messages(sub_id)) == 1
    status, _, _ = (await alert_rows(clean_db))[alerted(incident)[rid]["id"]]
    assert status == "sent"
