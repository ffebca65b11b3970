"""What reaches the phones when an operator ends or corrects an incident (issue 14, item 4):
the stand-down says why, a correction sends an update push. Through the real outbox worker
and the local FCM server."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from responders.delivery import OutboxWorker
from responders.emulators.fcm import FcmServerState
from tests.helpers import INCIDENT, alerted, offset, place_volunteer, report


def _by_kind(fcm: FcmServerState, kind: str) -> dict[int, Mapping[str, Any]]:
    """The messages of `kind` FCM took, by alert id."""
    found = {}
    for received in fcm.messages():
        data = received.message["data"]
        if data["kind"] == kind:
            found[int(data["alert_id"])] = received.message
    return found


async def test_the_stand_down_push_says_why_the_incident_was_cancelled(
    client: httpx.AsyncClient,
    operator_headers: dict[str, str],
    worker: OutboxWorker,
    fcm: FcmServerState,
) -> None:
    rid, _ = await place_volunteer(client, *offset(*INCIDENT, 60, 0))
    incident = await report(client, operator_headers, *INCIDENT)
    alert_id = alerted(incident)[rid]["id"]
    await worker.drain()
    assert set(_by_kind(fcm, "alert")) == {alert_id}
    cancelled = await client.post(
        f"/incidents/{incident['id']}/cancel",
        headers=operator_headers,
        json={"reason": "ems_on_scene", "note": "Crew 12 with the patient, flat 3"},
    )
    assert cancelled.status_code == 200, cancelled.text
    await worker.drain()
    message = _by_kind(fcm, "stand_down")[alert_id]
    assert message["data"]["reason"] == "ems_on_scene" and message["data"]["v"] == "1"
    assert message["notification"]["body"] == "Stood down: the ambulance is on scene. Thank you."
    # The operator's note stays in the console: it may hold details of the patient.
    assert "flat 3" not in str(message)


async def test_a_correction_sends_an_update_push_to_those_who_may_be_on_the_way(
    client: httpx.AsyncClient,
    operator_headers: dict[str, str],
    worker: OutboxWorker,
    fcm: FcmServerState,
) -> None:
    (coming, hc), (no, hn) = [
        await place_volunteer(client, *offset(*INCIDENT, d, 0)) for d in (60, 120)
    ]
    incident = await report(client, operator_headers, *INCIDENT)
    alerts = alerted(incident)
    await worker.drain()
    await client.post(f"/alerts/{alerts[coming]['id']}/accept", headers=hc)
    await client.post(f"/alerts/{alerts[no]['id']}/decline", headers=hn)
    corrected = await client.patch(
        f"/incidents/{incident['id']}",
        headers=operator_headers,
        json={"address": "Unioninkatu 20, 2nd floor"},
    )
    assert corrected.status_code == 200, corrected.text
    await worker.drain()
    updates = _by_kind(fcm, "update")
    assert set(updates) == {alerts[coming]["id"]}, "not to the one who declined"
    message = updates[alerts[coming]["id"]]
    # Like every push, no address travels: the app reads the alert again.
    assert "Unioninkatu" not in str(message)
    assert message["android"]["notification"]["channel_id"] == "ehbo_updates"
    detail = (await client.get(f"/incidents/{incident['id']}", headers=operator_headers)).json()
    sent = [e for e in detail["timeline"] if e["kind"] == "push_sent:update"]
    assert [e["alert_id"] for e in sent] == [alerts[coming]["id"]]


async def test_an_update_is_not_sent_once_the_volunteer_stood_down(
    client: httpx.AsyncClient,
    operator_headers: dict[str, str],
    worker: OutboxWorker,
    fcm: FcmServerState,
) -> None:
    rid, headers = await place_volunteer(client, *offset(*INCIDENT, 60, 0))
    incident = await report(client, operator_headers, *INCIDENT)
    alert_id = alerted(incident)[rid]["id"]
    await worker.drain()
    await client.post(f"/alerts/{alert_id}/accept", headers=headers)
    await client.patch(
        f"/incidents/{incident['id']}", headers=operator_headers, json={"notes": "Gate code 1234"}
    )
    # Declined before the update went out: its news is moot.
    await client.post(f"/alerts/{alert_id}/decline", headers=headers)
    await worker.drain()
    assert _by_kind(fcm, "update") == {}
