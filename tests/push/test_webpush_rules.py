"""Web Push without a network: which endpoints and keys we accept, the payload, the VAPID key,
and the deliverer that splits a batch by channel."""

from __future__ import annotations

import base64
import json
import os
import stat
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from responders.emulators.webpush import SubscriberKeys
from responders.errors import InvalidInput
from responders.push import (
    Deliverer,
    PushMessage,
    SendOutcome,
    SendResult,
    WebPushKeys,
    load_vapid_key,
    webpush_payload,
)
from responders.push.endpoints import check_subscription, endpoint_problem
from responders.push.payload import MAX_WEBPUSH_PAYLOAD
from responders.push.vapid import b64url, origin_of
from responders.settings import WebPushSettings

KEYS = SubscriberKeys.generate()

# (endpoint, accepted without loopback, accepted with loopback allowed)
ENDPOINTS = [
    ("https://fcm.googleapis.com/fcm/send/abc:def", True, True),
    ("https://updates.push.services.mozilla.com/wpush/v2/gAAA", True, True),
    ("https://web.push.apple.com/QGuQ", True, True),
    ("https://8.8.8.8/push/1", True, True),
    ("http://fcm.googleapis.com/fcm/send/abc", False, False),  # not https
    ("ftp://fcm.googleapis.com/x", False, False),
    ("https://10.1.2.3/push/1", False, False),  # private
    ("https://192.168.1.10/push/1", False, False),
    ("https://172.16.0.5/push/1", False, False),
    ("https://100.64.0.1/push/1", False, False),  # shared address space
    ("https://169.254.169.254/latest/meta-data", False, False),  # link-local: cloud metadata
    ("https://[fe80::1]/push/1", False, False),
    ("https://[fd00::1]/push/1", False, False),
    ("https://0.0.0.0/push/1", False, False),
    ("https://240.0.0.1/push/1", False, False),  # reserved
    ("https://127.0.0.1/push/1", False, True),  # loopback
    ("http://127.0.0.1:8000/webpush/push/1", False, True),
    ("http://[::1]:8000/push/1", False, True),
    ("https://[::1]/push/1", False, True),
    ("http://localhost:8000/push/1", False, True),
    ("https://push.localhost/push/1", False, True),
    ("https://intranet/push/1", False, False),  # a single label: the local search domain
    ("https://printer.local/push/1", False, False),
    ("https://metadata.google.internal/x", False, False),
    ("https://user:pw@fcm.googleapis.com/x", False, False),
    ("https://fcm.googleapis.com:notaport/x", False, False),
    ("not a url", False, False),
]


@pytest.mark.parametrize(("endpoint", "public", "with_loopback"), ENDPOINTS)
def test_endpoint_rules(endpoint: str, public: bool, with_loopback: bool) -> None:
    assert (endpoint_problem(endpoint, allow_loopback=False) is None) is public
    assert (endpoint_problem(endpoint, allow_loopback=True) is None) is with_loopback


def test_a_refused_endpoint_names_the_endpoint_field() -> None:
    with pytest.raises(InvalidInput) as refused:
        check_subscription(
            "http://127.0.0.1:8000/push/1", KEYS.p256dh, KEYS.auth, allow_loopback=False
        )
    assert refused.value.extra["field"] == "body.subscription.endpoint"


@pytest.mark.parametrize(
    ("p256dh", "auth", "field"),
    [
        (KEYS.p256dh[:-4], KEYS.auth, "body.subscription.keys.p256dh"),  # too short
        (b64url(b"\x04" + b"\x01" * 64), KEYS.auth, "body.subscription.keys.p256dh"),  # no point
        (
            KEYS.p256dh.replace("-", "+").replace("_", "/") + "!",
            KEYS.auth,
            "body.subscription.keys.p256dh",
        ),
        (KEYS.p256dh, b64url(b"x" * 15), "body.subscription.keys.auth"),
        (KEYS.p256dh, b64url(b"x" * 17), "body.subscription.keys.auth"),
        (KEYS.p256dh, "not base64 at all", "body.subscription.keys.auth"),
    ],
)
def test_bad_keys_name_their_field(p256dh: str, auth: str, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_subscription("https://push.example.com/1", p256dh, auth, allow_loopback=False)
    assert refused.value.extra["field"] == field


def test_good_keys_pass_padded_or_not() -> None:
    check_subscription("https://push.example.com/1", KEYS.p256dh, KEYS.auth, allow_loopback=False)
    padded = KEYS.p256dh + "=" * (-len(KEYS.p256dh) % 4)
    check_subscription("https://push.example.com/1", padded, KEYS.auth, allow_loopback=False)


def _push(kind: str = "alert", **overrides: object) -> PushMessage:
    values: dict[str, object] = {
        "token": "https://push.example.com/1",
        "platform": "web",
        "kind": kind,
        "alert_id": 12,
        "incident_id": 5,
        "role": "direct" if kind == "alert" else None,
        "title": "Cardiac arrest nearby — can you help?",
        "body": "About 2 min on foot. Tap to answer.",
        "ttl_s": 240,
        "channel": "webpush",
        "webpush_keys": WebPushKeys(KEYS.p256dh, KEYS.auth),
    }
    return PushMessage(**{**values, **overrides})  # type: ignore[arg-type]


def test_alert_payload_has_the_contracts_fields_and_nothing_else() -> None:
    payload = json.loads(webpush_payload(_push()))
    assert payload == {
        "v": "1",
        "kind": "alert",
        "alert_id": "12",
        "incident_id": "5",
        "role": "direct",
        "title": "Cardiac arrest nearby — can you help?",
        "body": "About 2 min on foot. Tap to answer.",
        "url": "/app#/alerts/12",
        "tag": "incident-5",
    }
    assert len(webpush_payload(_push())) < 1024


def test_stand_down_payload_carries_the_reason_and_no_role() -> None:
    push = _push("stand_down", extra={"reason": "ems_on_scene"}, title="Stand down")
    payload = json.loads(webpush_payload(push))
    assert payload["kind"] == "stand_down" and payload["reason"] == "ems_on_scene"
    assert "role" not in payload and payload["tag"] == "incident-5"


def test_an_oversized_payload_is_refused() -> None:
    with pytest.raises(ValueError, match="over"):
        webpush_payload(_push(body="x" * MAX_WEBPUSH_PAYLOAD))


def _public_of_pem(path: Path) -> str:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url(point)


def test_the_vapid_key_is_generated_once_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "data" / "vapid.pem"
    settings = WebPushSettings(vapid_key_file=path)
    first = load_vapid_key(settings)
    assert path.exists() and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    content = path.read_bytes()
    second = load_vapid_key(settings)
    assert second.public_key == first.public_key == _public_of_pem(path)
    assert path.read_bytes() == content
    raw = base64.urlsafe_b64decode(first.public_key + "=")
    assert len(raw) == 65 and raw[0] == 4


def test_processes_starting_at_once_agree_on_one_key(tmp_path: Path) -> None:
    settings = WebPushSettings(vapid_key_file=tmp_path / "vapid.pem")
    found: list[str] = []
    threads = [
        threading.Thread(target=lambda: found.append(load_vapid_key(settings).public_key))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(found)) == 1 and found[0] == _public_of_pem(tmp_path / "vapid.pem")
    assert [p.name for p in tmp_path.iterdir()] == ["vapid.pem"]


def test_a_given_key_wins_over_the_file(tmp_path: Path) -> None:
    path = tmp_path / "vapid.pem"
    from_file = load_vapid_key(WebPushSettings(vapid_key_file=path))
    given = ec.generate_private_key(ec.SECP256R1())
    pem = given.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    raw = b64url(given.private_numbers().private_value.to_bytes(32, "big"))
    expected = b64url(
        given.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )
    for text in (pem, raw):
        key = load_vapid_key(WebPushSettings(vapid_key_file=path, vapid_private_key=text))
        assert key.public_key == expected != from_file.public_key
    assert load_vapid_key(WebPushSettings(vapid_key_file=path)).public_key == from_file.public_key
    # The raw number in standard base64 (+ and /) is read as well as in base64url.
    standard = base64.b64encode(b"\xfb" * 32).decode()
    assert "+" in standard and "/" in standard
    url_safe = b64url(b"\xfb" * 32)
    read = [
        load_vapid_key(WebPushSettings(vapid_key_file=path, vapid_private_key=text)).public_key
        for text in (standard, url_safe)
    ]
    assert read[0] == read[1]


def test_a_vapid_header_is_signed_once_per_push_service(tmp_path: Path) -> None:
    key = load_vapid_key(WebPushSettings(vapid_key_file=tmp_path / "vapid.pem"))
    a = key.authorization("https://push.example.com/a", now=1_000_000)
    assert a == key.authorization("https://push.example.com/b", now=1_000_100)
    assert a != key.authorization("https://other.example.com/a", now=1_000_100)
    assert a != key.authorization("https://push.example.com/a", now=1_000_000 + 7 * 3600)
    assert a.startswith("vapid t=") and f"k={key.public_key}" in a


def test_the_vapid_aud_is_the_endpoints_origin(tmp_path: Path) -> None:
    """RFC 6454's serialization: lower case, the default port dropped (a push service
    compares `aud` with its own origin)."""
    key = load_vapid_key(WebPushSettings(vapid_key_file=tmp_path / "vapid.pem"))
    plain = key.authorization("https://push.example.com/a", now=1_000_000)
    assert key.authorization("https://Push.Example.COM:443/b", now=1_000_100) == plain
    assert key.authorization("https://push.example.com:8443/a", now=1_000_100) != plain
    assert origin_of("HTTP://[::1]:80/push/x") == "http://[::1]"


class _Recorder:
    def __init__(self, name: str) -> None:
        self.name, self.batches, self.closed = name, [], False

    batches: list[list[int]]

    def send(self, messages: Sequence[PushMessage]) -> list[SendResult]:
        self.batches.append([m.alert_id for m in messages])
        return [
            SendResult(SendOutcome.SENT, message_id=f"{self.name}-{m.alert_id}") for m in messages
        ]

    def close(self) -> None:
        self.closed = True


def test_the_deliverer_splits_by_channel_and_keeps_the_order() -> None:
    fcm, web = _Recorder("fcm"), _Recorder("web")
    deliverer = Deliverer(fcm=fcm, webpush=web)
    batch = [
        _push(alert_id=1),
        _push(alert_id=2, channel="fcm", webpush_keys=None),
        _push(alert_id=3),
        _push(alert_id=4, channel="fcm", webpush_keys=None),
    ]
    results = deliverer.send(batch)
    assert [r.message_id for r in results] == ["web-1", "fcm-2", "web-3", "fcm-4"]
    assert web.batches == [[1, 3]] and fcm.batches == [[2, 4]]
    deliverer.close()
    assert fcm.closed and web.closed


def test_without_a_web_push_channel_its_messages_fail_as_invalid() -> None:
    fcm = _Recorder("fcm")
    results = Deliverer(fcm=fcm).send([_push(alert_id=1), _push(alert_id=2, channel="fcm")])
    assert results[0].outcome is SendOutcome.INVALID and results[0].error_code == "CHANNEL_OFF"
    assert results[1].message_id == "fcm-2"
