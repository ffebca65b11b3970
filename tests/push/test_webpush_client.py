"""The Web Push channel against the local push service: encryption, VAPID, headers, and what
each answer of a push service means to the worker."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from responders.emulators.webpush import (
    SubscriberKeys,
    WebPushServerState,
    WebPushServerThread,
    create_subscription,
)
from responders.push import (
    PushMessage,
    SendOutcome,
    WebPushClient,
    WebPushKeys,
    load_vapid_key,
)
from responders.push.vapid import VapidKey
from responders.settings import WebPushSettings


@pytest.fixture(scope="module")
def vapid(tmp_path_factory: pytest.TempPathFactory) -> VapidKey:
    path: Path = tmp_path_factory.mktemp("vapid") / "vapid.pem"
    return load_vapid_key(WebPushSettings(vapid_key_file=path))


@pytest.fixture(scope="module")
def client(vapid: VapidKey) -> Iterator[WebPushClient]:
    with WebPushClient(vapid, timeout_s=2.0, allow_loopback=True) as made:
        yield made


def _subscribe(
    server: WebPushServerThread, state: WebPushServerState
) -> tuple[str, SubscriberKeys]:
    keys = SubscriberKeys.generate()
    return create_subscription(state, server.url, keys), keys


def _push(endpoint: str, keys: SubscriberKeys, alert_id: int = 12, **extra: object) -> PushMessage:
    values: dict[str, object] = {
        "token": endpoint,
        "platform": "web",
        "kind": "alert",
        "alert_id": alert_id,
        "incident_id": 5,
        "role": "direct",
        "title": "Cardiac arrest nearby — can you help?",
        "body": "About 2 min on foot. Tap to answer.",
        "ttl_s": 240,
        "channel": "webpush",
        "webpush_keys": WebPushKeys(keys.p256dh, keys.auth),
    }
    return PushMessage(**{**values, **extra})  # type: ignore[arg-type]


def _sub_id(endpoint: str) -> str:
    return endpoint.rsplit("/", 1)[1]


def test_a_push_arrives_encrypted_signed_and_urgent(
    client: WebPushClient, webpush_server: WebPushServerThread, webpush_state: WebPushServerState
) -> None:
    endpoint, keys = _subscribe(webpush_server, webpush_state)
    [result] = client.send([_push(endpoint, keys)])
    assert result.outcome is SendOutcome.SENT, result
    [received] = webpush_state.messages(_sub_id(endpoint))
    assert result.message_id == f"/message/{received.id}"
    assert received.headers["content-encoding"] == "aes128gcm"
    assert received.ttl == 240 and received.urgency == "high" and received.topic == "incident-5"
    assert b"Cardiac" not in received.body, "the body travels encrypted"
    payload = json.loads(keys.decrypt(received.body))
    assert payload["kind"] == "alert" and payload["alert_id"] == "12"
    assert payload["url"] == "/app#/alerts/12"


def test_a_batch_goes_out_in_order(
    client: WebPushClient, webpush_server: WebPushServerThread, webpush_state: WebPushServerState
) -> None:
    subs = [_subscribe(webpush_server, webpush_state) for _ in range(6)]
    results = client.send([_push(e, k, alert_id=i) for i, (e, k) in enumerate(subs)])
    assert [r.outcome for r in results] == [SendOutcome.SENT] * 6
    for index, (endpoint, keys) in enumerate(subs):
        [received] = webpush_state.messages(_sub_id(endpoint))
        assert json.loads(keys.decrypt(received.body))["alert_id"] == str(index)
        assert results[index].message_id == f"/message/{received.id}"


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (410, SendOutcome.UNREGISTERED),
        (429, SendOutcome.RETRY),
        (500, SendOutcome.RETRY),
        (503, SendOutcome.RETRY),
    ],
)
def test_a_push_service_fault_maps_to_what_the_worker_does(
    client: WebPushClient,
    webpush_server: WebPushServerThread,
    webpush_state: WebPushServerState,
    status: int,
    outcome: SendOutcome,
) -> None:
    endpoint, keys = _subscribe(webpush_server, webpush_state)
    webpush_state.fail_next(status, subscription=_sub_id(endpoint), retry_after_s=3)
    [result] = client.send([_push(endpoint, keys)])
    assert result.outcome is outcome and result.http_status == status
    assert result.error_code == f"WEBPUSH_{status}"
    if outcome is SendOutcome.RETRY:
        assert result.retry_after_s == 3.0


def test_an_unknown_or_removed_subscription_is_unregistered(
    client: WebPushClient, webpush_server: WebPushServerThread, webpush_state: WebPushServerState
) -> None:
    endpoint, keys = _subscribe(webpush_server, webpush_state)
    webpush_state.unsubscribe(_sub_id(endpoint))
    unknown = f"{webpush_server.url}/push/never-made"
    results = client.send([_push(endpoint, keys), _push(unknown, keys)])
    assert [(r.outcome, r.http_status) for r in results] == [
        (SendOutcome.UNREGISTERED, 410),
        (SendOutcome.UNREGISTERED, 404),
    ]


def test_a_refused_vapid_key_is_an_auth_error(
    client: WebPushClient, webpush_server: WebPushServerThread, webpush_state: WebPushServerState
) -> None:
    keys = SubscriberKeys.generate()
    # Subscribed with another service's applicationServerKey: our signature must not pass.
    other = SubscriberKeys.generate().p256dh
    sub = webpush_state.subscribe(keys, application_server_key=other)
    [result] = client.send([_push(f"{webpush_server.url}/push/{sub.id}", keys)])
    assert result.outcome is SendOutcome.AUTH_ERROR and result.http_status in (401, 403)
    assert webpush_state.messages(sub.id) == []


def test_loopback_is_refused_before_any_request_unless_allowed(
    vapid: VapidKey, webpush_server: WebPushServerThread, webpush_state: WebPushServerState
) -> None:
    endpoint, keys = _subscribe(webpush_server, webpush_state)
    with WebPushClient(vapid, timeout_s=2.0, allow_loopback=False) as strict:
        [result] = strict.send([_push(endpoint, keys)])
    assert result.outcome is SendOutcome.INVALID and result.error_code == "PRIVATE_ADDRESS"
    assert webpush_state.messages() == [], "no request reached the private address"


def test_a_service_that_is_down_is_worth_another_try(vapid: VapidKey) -> None:
    keys = SubscriberKeys.generate()
    with WebPushClient(vapid, timeout_s=1.0, allow_loopback=True) as made:
        # Port 9 (discard) on loopback: nothing listens there.
        [result] = made.send([_push("http://127.0.0.1:9/push/x", keys)])
    assert result.outcome is SendOutcome.RETRY and result.error_code == "UNAVAILABLE"


def test_keys_that_cannot_encrypt_fail_that_push_only(
    client: WebPushClient, webpush_server: WebPushServerThread, webpush_state: WebPushServerState
) -> None:
    endpoint, keys = _subscribe(webpush_server, webpush_state)
    not_a_point = "BA" + "A" * 85  # 65 bytes, 0x04 first, but not on the curve
    bad = _push(endpoint, keys, webpush_keys=WebPushKeys(not_a_point, keys.auth))
    results = client.send([bad, _push(endpoint, keys)])
    assert results[0].outcome is SendOutcome.INVALID
    assert results[0].error_code == "LOCAL_VALIDATION"
    assert results[1].outcome is SendOutcome.SENT
    assert len(webpush_state.messages(_sub_id(endpoint))) == 1
