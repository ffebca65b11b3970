"""PushClient and the payload, through firebase-admin's real client and the local server."""

from __future__ import annotations

import json
import socket
import time
import warnings
from collections.abc import Callable
from email.utils import formatdate
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from firebase_admin import messaging

from responders.emulators.fcm import FaultKind, FcmServerState, FcmServerThread
from responders.push import FcmConfig, PushClient, PushMessage, SendOutcome
from responders.push.fcm import result_from_exception
from responders.push.payload import ALERT_CHANNEL_ID, UPDATE_CHANNEL_ID, build_message

MakePush = Callable[..., PushMessage]

# --- what arrives on "the phone" -------------------------------------------------------------


def test_android_alert_arrives_with_priority_ttl_channel_and_versioned_data(
    fcm_state: FcmServerState, push_client: PushClient, make_push: MakePush
) -> None:
    [result] = push_client.send([make_push(token="phone-1", extra={"lat": "52.1"})])

    assert result.outcome is SendOutcome.SENT
    [stored] = fcm_state.messages("phone-1")
    assert stored.name == result.message_id
    message = stored.message
    assert stored.target_field == "fid"
    assert message["data"] == {
        "v": "1",
        "kind": "alert",
        "alert_id": "11",
        "incident_id": "7",
        "role": "direct",
        "lat": "52.1",
    }
    assert message["notification"] == {
        "title": "Reanimatie nodig",
        "body": "Kerkstraat 12, 180 m",
    }
    android = message["android"]
    assert android["priority"] == "high"
    assert android["ttl"] == "300s"
    assert android["collapse_key"] == "incident-7"
    assert android["notification"]["channel_id"] == ALERT_CHANNEL_ID
    assert android["notification"]["tag"] == "incident-7"
    assert android["notification"]["notification_priority"] == "PRIORITY_MAX"
    assert "apns" not in message
    assert "webpush" not in message


def test_ios_alert_is_critical_with_apns_headers(
    fcm_state: FcmServerState, push_client: PushClient, make_push: MakePush
) -> None:
    before = int(time.time())
    [result] = push_client.send([make_push(token="iphone-1", platform="ios", role="via_aed")])

    assert result.outcome is SendOutcome.SENT
    apns = fcm_state.messages("iphone-1")[0].message["apns"]
    headers = apns["headers"]
    assert headers["apns-priority"] == "10"
    assert headers["apns-push-type"] == "alert"
    assert headers["apns-collapse-id"] == "incident-7"
    assert before + 300 <= int(headers["apns-expiration"]) <= int(time.time()) + 300
    aps = apns["payload"]["aps"]
    assert aps["sound"] == {"name": "default", "critical": 1, "volume": 1.0}
    assert aps["interruption-level"] == "critical"
    assert aps["alert"] == {"title": "Reanimatie nodig", "body": "Kerkstraat 12, 180 m"}
    assert fcm_state.messages("iphone-1")[0].message["data"]["role"] == "via_aed"


def test_web_alert_sets_push_service_headers(
    fcm_state: FcmServerState, push_client: PushClient, make_push: MakePush
) -> None:
    push_client.send([make_push(token="browser-1", platform="web")])

    webpush = fcm_state.messages("browser-1")[0].message["webpush"]
    assert webpush["headers"] == {"TTL": "300", "Urgency": "high", "Topic": "incident-7"}
    assert webpush["notification"]["tag"] == "incident-7"
    assert webpush["notification"]["requireInteraction"] is True


def test_stand_down_replaces_the_alert_without_a_critical_alarm(
    fcm_state: FcmServerState, push_client: PushClient, make_push: MakePush
) -> None:
    stand_downs = [
        make_push(token="phone-1", kind="stand_down", role=None, ttl_s=600),
        make_push(token="iphone-1", platform="ios", kind="no_longer_needed", role=None),
    ]

    results = push_client.send(stand_downs)

    assert [r.outcome for r in results] == [SendOutcome.SENT, SendOutcome.SENT]
    android = fcm_state.messages("phone-1")[0].message
    assert android["data"]["kind"] == "stand_down"
    assert "role" not in android["data"]
    assert android["android"]["priority"] == "high"
    assert android["android"]["collapse_key"] == "incident-7"
    assert android["android"]["notification"]["tag"] == "incident-7"
    assert android["android"]["notification"]["channel_id"] == UPDATE_CHANNEL_ID
    apns = fcm_state.messages("iphone-1")[0].message["apns"]
    assert apns["headers"]["apns-priority"] == "10"
    assert apns["headers"]["apns-collapse-id"] == "incident-7"
    assert apns["payload"]["aps"]["sound"] == "default"
    assert apns["payload"]["aps"]["interruption-level"] == "time-sensitive"


def test_legacy_token_target_is_available_without_deprecation_warnings(
    fcm_server: FcmServerThread, fcm_state: FcmServerState, make_push: MakePush
) -> None:
    config = FcmConfig(project_id="ehbo-test", endpoint=fcm_server.url, target_field="token")
    with warnings.catch_warnings(), PushClient(config) as client:
        warnings.simplefilter("error")
        [result] = client.send([make_push(token="old-phone")])

    assert result.outcome is SendOutcome.SENT
    assert fcm_state.messages("old-phone")[0].target_field == "token"


# --- outcomes --------------------------------------------------------------------------------

EXPECTED_OUTCOME = {
    FaultKind.UNREGISTERED: (SendOutcome.UNREGISTERED, 404),
    FaultKind.INVALID_ARGUMENT: (SendOutcome.INVALID, 400),
    FaultKind.QUOTA_EXCEEDED: (SendOutcome.RETRY, 429),
    FaultKind.UNAVAILABLE: (SendOutcome.RETRY, 503),
    FaultKind.INTERNAL: (SendOutcome.RETRY, 500),
    FaultKind.SENDER_ID_MISMATCH: (SendOutcome.INVALID, 403),
    FaultKind.THIRD_PARTY_AUTH_ERROR: (SendOutcome.AUTH_ERROR, 401),
}


@pytest.mark.parametrize("kind", list(FaultKind))
def test_each_fcm_error_maps_to_one_outcome_after_one_attempt(
    kind: FaultKind, fcm_state: FcmServerState, push_client: PushClient, make_push: MakePush
) -> None:
    fcm_state.fail_next(kind)

    [result] = push_client.send([make_push()])

    outcome, status = EXPECTED_OUTCOME[kind]
    assert result.outcome is outcome
    assert result.error_code == kind.value
    assert result.http_status == status
    assert result.message_id is None
    assert result.detail
    # firebase-admin's own retries (urllib3, google-auth's 401 refresh) are off: one request.
    assert fcm_state.stats()["outcomes"] == {kind.value: 1}
    assert fcm_state.messages() == []


def test_quota_exceeded_carries_retry_after(
    fcm_state: FcmServerState, push_client: PushClient, make_push: MakePush
) -> None:
    fcm_state.fail_next(FaultKind.QUOTA_EXCEEDED, retry_after_s=30)

    started = time.monotonic()
    [result] = push_client.send([make_push()])

    assert result.outcome is SendOutcome.RETRY
    assert result.retry_after_s == 30.0
    assert time.monotonic() - started < 5  # the library did not sleep on it


def test_retry_after_as_http_date() -> None:
    response = requests.Response()
    response.status_code = 503
    response.headers["Retry-After"] = formatdate(time.time() + 120, usegmt=True)

    result = result_from_exception(messaging.QuotaExceededError("busy", http_response=response))

    assert result.retry_after_s is not None
    assert 115 <= result.retry_after_s <= 121


def test_timeout_is_retry(
    fcm_server: FcmServerThread, fcm_state: FcmServerState, make_push: MakePush
) -> None:
    fcm_state.latency_s = 0.6
    config = FcmConfig(project_id="ehbo-test", endpoint=fcm_server.url, timeout_s=0.2)
    with PushClient(config) as client:
        [result] = client.send([make_push()])

    assert result.outcome is SendOutcome.RETRY
    assert result.error_code == "DEADLINE_EXCEEDED"
    assert result.http_status is None
    # The server still delivers it: a retried timeout can reach the phone twice.
    deadline = time.monotonic() + 5
    while not fcm_state.messages("token-a") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(fcm_state.messages("token-a")) == 1


def test_connection_refused_is_retry(make_push: MakePush) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = FcmConfig(project_id="ehbo-test", endpoint=f"http://127.0.0.1:{port}", timeout_s=1)
    with PushClient(config) as client:
        [result] = client.send([make_push()])

    assert result.outcome is SendOutcome.RETRY
    assert result.error_code == "UNAVAILABLE"


def test_wrong_endpoint_path_is_a_configuration_error(
    fcm_server: FcmServerThread, fcm_state: FcmServerState, make_push: MakePush
) -> None:
    config = FcmConfig(project_id="ehbo-test", endpoint=f"{fcm_server.url}/nope")
    with PushClient(config) as client:
        [result] = client.send([make_push()])

    assert result.outcome is SendOutcome.AUTH_ERROR
    assert result.error_code == "NOT_FOUND"
    assert result.http_status == 404


def test_outage_then_recovery(
    fcm_state: FcmServerState, push_client: PushClient, make_push: MakePush
) -> None:
    fcm_state.start_outage(retry_after_s=2)
    during = push_client.send([make_push(token=f"t{i}") for i in range(3)])
    fcm_state.end_outage()
    after = push_client.send([make_push(token=f"t{i}") for i in range(3)])

    assert {(r.outcome, r.error_code, r.retry_after_s) for r in during} == {
        (SendOutcome.RETRY, "UNAVAILABLE", 2.0)
    }
    assert {r.outcome for r in after} == {SendOutcome.SENT}
    assert fcm_state.stats()["outcomes"] == {"UNAVAILABLE": 3, "OK": 3}


def test_oversized_payload_is_invalid_from_the_server(
    fcm_state: FcmServerState, push_client: PushClient, make_push: MakePush
) -> None:
    [result] = push_client.send([make_push(extra={"notes": "x" * 4000})])

    assert result.outcome is SendOutcome.INVALID
    assert result.error_code == "INVALID_ARGUMENT"
    assert result.http_status == 400
    assert "too big" in (result.detail or "")


def test_ttl_beyond_four_weeks_is_invalid_from_the_server(
    fcm_state: FcmServerState, push_client: PushClient, make_push: MakePush
) -> None:
    [result] = push_client.send([make_push(ttl_s=29 * 24 * 3600)])

    assert result.outcome is SendOutcome.INVALID
    assert result.error_code == "INVALID_ARGUMENT"
    assert "TTL" in (result.detail or "")


def test_locally_invalid_messages_fail_alone(
    fcm_state: FcmServerState, push_client: PushClient, make_push: MakePush
) -> None:
    batch = [
        make_push(token="ok-1"),
        make_push(token="neg", ttl_s=-5),
        make_push(token="clash", extra={"kind": "x"}),
        make_push(token="ok-2"),
    ]

    results = push_client.send(batch)

    assert [r.outcome for r in results] == [
        SendOutcome.SENT,
        SendOutcome.INVALID,
        SendOutcome.INVALID,
        SendOutcome.SENT,
    ]
    assert results[1].error_code == "LOCAL_VALIDATION"
    assert {m.target for m in fcm_state.messages()} == {"ok-1", "ok-2"}


# --- batches ---------------------------------------------------------------------------------


def test_batch_of_30_keeps_order_and_reaches_every_phone(
    fcm_state: FcmServerState, push_client: PushClient, make_push: MakePush
) -> None:
    platforms = ("android", "ios", "web")
    batch = [
        make_push(token=f"phone-{i}", alert_id=i, platform=platforms[i % 3]) for i in range(30)
    ]
    fcm_state.unregister("phone-4")
    fcm_state.fail_next(FaultKind.QUOTA_EXCEEDED, tokens=["phone-9"])

    results = push_client.send(batch)

    outcomes = {i: r.outcome for i, r in enumerate(results) if r.outcome is not SendOutcome.SENT}
    assert outcomes == {4: SendOutcome.UNREGISTERED, 9: SendOutcome.RETRY}
    for i, result in enumerate(results):
        if result.outcome is SendOutcome.SENT:
            [stored] = fcm_state.messages(f"phone-{i}")
            assert stored.name == result.message_id
            assert stored.message["data"]["alert_id"] == str(i)
    assert len({r.message_id for r in results if r.message_id}) == 28


def test_empty_batch_sends_nothing(push_client: PushClient) -> None:
    assert push_client.send([]) == []


def test_payload_builds_without_the_network(make_push: MakePush) -> None:
    message = build_message(make_push(platform="ios"), now=1_000_000)

    assert message.fid == "token-a"
    assert message.apns.headers["apns-expiration"] == "1000300"


# --- lifecycle -------------------------------------------------------------------------------


def test_clients_coexist_and_close_twice(fcm_server: FcmServerThread) -> None:
    config = FcmConfig(project_id="ehbo-test", endpoint=fcm_server.url)
    first, second = PushClient(config), PushClient(config)

    assert first.app.name != second.app.name
    first.close()
    first.close()
    second.close()


async def test_close_inside_a_running_event_loop(
    fcm_server: FcmServerThread, fcm_state: FcmServerState, make_push: MakePush
) -> None:
    # firebase-admin closes its messaging service with asyncio.run(), which would raise here.
    client = PushClient(FcmConfig(project_id="ehbo-test", endpoint=fcm_server.url))
    client.send([make_push()])

    client.close()


def test_production_client_keeps_google_endpoint_and_has_no_library_retries(
    tmp_path: Path,
) -> None:
    # Construction only: sending would fetch an OAuth token from Google.
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    account = tmp_path / "service-account.json"
    account.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "ehbo-prod",
                "private_key_id": "k1",
                "private_key": pem,
                "client_email": "push@ehbo-prod.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )

    with PushClient(FcmConfig(project_id="ehbo-prod", service_account_file=account)) as client:
        service = messaging._get_messaging_service(client.app)
        session = service._client.session

        assert service._fcm_url == (
            "https://fcm.googleapis.com/v1/projects/ehbo-prod/messages:send"
        )
        for prefix in ("https://fcm.googleapis.com/v1/", "http://127.0.0.1/"):
            assert session.get_adapter(prefix).max_retries.total == 0
        assert session.trust_env  # production honours HTTPS_PROXY
