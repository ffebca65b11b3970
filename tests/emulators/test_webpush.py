"""The local Web Push service (RFC 8030): what pywebpush sends is taken, stored and decrypts;
VAPID (RFC 8292), headers and body are checked like a real push service; faults, admin API,
storage and the server thread."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import http_ece
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from py_vapid import Vapid, Vapid01
from pywebpush import WebPusher, WebPushException, webpush
from starlette.applications import Starlette
from starlette.routing import Mount

from responders.emulators.webpush import (
    MAX_BODY_BYTES,
    SubscriberKeys,
    WebPushServerState,
    WebPushServerThread,
    create_subscription,
    create_webpush_app,
)

CONTACT = {"sub": "mailto:ops@ehbo.example"}
NOT_A_POINT = base64.urlsafe_b64encode(b"\x04" + b"\x01" * 64).rstrip(b"=").decode()
PAYLOAD = {"v": "1", "kind": "alert", "alert_id": "12", "title": "Cardiac arrest nearby"}


@pytest.fixture(scope="module")
def vapid() -> Vapid:
    """The application server's VAPID key (RFC 8292 `vapid t=..., k=...` headers)."""
    key = Vapid()
    key.generate_keys()
    return key


@pytest.fixture
def http(webpush_server: WebPushServerThread) -> Iterator[httpx.Client]:
    """A raw HTTP client for wire-level checks pywebpush would not let us make."""
    with httpx.Client(base_url=webpush_server.url, timeout=5.0) as client:
        yield client


@pytest.fixture
def keys() -> SubscriberKeys:
    return SubscriberKeys.generate()


@pytest.fixture
def endpoint(
    webpush_state: WebPushServerState, webpush_server: WebPushServerThread, keys: SubscriberKeys
) -> str:
    return create_subscription(webpush_state, webpush_server.url, keys)


def send(
    endpoint: str,
    keys: SubscriberKeys,
    vapid: Vapid01,
    data: bytes = json.dumps(PAYLOAD).encode(),
    *,
    ttl: int = 60,
    headers: dict[str, str] | None = None,
    encoding: str = "aes128gcm",
) -> Any:
    """pywebpush's `webpush()`, exactly as a sender calls it; raises WebPushException > 202."""
    return webpush(
        keys.subscription(endpoint),
        data,
        vapid_private_key=vapid,
        vapid_claims=dict(CONTACT),
        ttl=ttl,
        headers=headers,
        content_encoding=encoding,
    )


def refused(error: pytest.ExceptionInfo[WebPushException]) -> tuple[int, str]:
    response = error.value.response
    return response.status_code, response.json()["reason"]


def sub_id(endpoint: str) -> str:
    return endpoint.rsplit("/", 1)[1]


def encrypted(keys: SubscriberKeys, endpoint: str, data: bytes = b'{"v": "1"}') -> bytes:
    body: bytes = WebPusher(keys.subscription(endpoint)).encode(data)["body"]
    return body


def vapid_jwt(
    signer: ec.EllipticCurvePrivateKey, aud: str, *, exp: float | None = None, **claims: Any
) -> str:
    fields = {"aud": aud, "exp": int(exp if exp is not None else time.time() + 3600), **CONTACT}
    fields.update(claims)
    return jwt.encode({k: v for k, v in fields.items() if v is not None}, signer, "ES256")


def k_of(key: Vapid01) -> str:
    """The application server key as VAPID's `k` (and `applicationServerKey`) carry it."""
    point = key.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode()


def raw_push(
    http: httpx.Client,
    endpoint: str,
    keys: SubscriberKeys,
    vapid: Vapid01,
    *,
    token: str | None = None,
    drop: tuple[str, ...] = (),
    body: bytes | None = None,
    extra: dict[str, str] | None = None,
    **headers: str,
) -> httpx.Response:
    """A push built by hand: valid unless the arguments say otherwise."""
    origin = endpoint.split("/push/")[0]
    token = token or vapid_jwt(vapid.private_key, origin)
    sent = {
        "TTL": "60",
        "Content-Encoding": "aes128gcm",
        "Authorization": f"vapid t={token}, k={k_of(vapid)}",
    }
    sent.update({name.replace("_", "-"): value for name, value in headers.items()})
    sent.update(extra or {})
    for name in drop:
        sent.pop(name)
    content = body if body is not None else encrypted(keys, endpoint)
    return http.post(endpoint, content=content, headers=sent)


# --- a push as pywebpush sends it ----------------------------------------------------------


def test_a_pywebpush_send_is_taken_stored_and_decrypts_to_what_was_sent(
    webpush_state: WebPushServerState, endpoint: str, keys: SubscriberKeys, vapid: Vapid
) -> None:
    data = json.dumps(PAYLOAD).encode()
    response = send(
        endpoint, keys, vapid, data, ttl=120, headers={"Urgency": "high", "Topic": "incident-5"}
    )

    assert response.status_code == 201
    [stored] = webpush_state.messages(sub_id(endpoint))
    assert response.headers["Location"] == f"/message/{stored.id}"
    assert keys.decrypt(stored.body) == data
    assert (stored.ttl, stored.urgency, stored.topic) == (120, "high", "incident-5")
    assert stored.headers["content-encoding"] == "aes128gcm"
    assert stored.size == len(stored.body) <= MAX_BODY_BYTES
    # The service holds the keys too (the demo shows what the phone got).
    listed = stored.to_json()
    assert listed["payload"] == PAYLOAD
    assert listed["decrypt_error"] is None
    assert webpush_state.messages("someone-else") == []


def test_the_older_webpush_and_crypto_key_form_is_taken(
    webpush_state: WebPushServerState, endpoint: str, keys: SubscriberKeys
) -> None:
    """`Authorization: WebPush <JWT>` with `Crypto-Key: p256ecdsa=<k>` (draft VAPID)."""
    old = Vapid01()
    old.generate_keys()
    response = send(endpoint, keys, old)

    assert response.status_code == 201
    request = response.request
    assert request.headers["Authorization"].startswith("WebPush ")
    assert "p256ecdsa=" in request.headers["Crypto-Key"]
    assert len(webpush_state.messages(sub_id(endpoint))) == 1


def test_pywebpush_sends_rfc8292_vapid_headers(
    endpoint: str, keys: SubscriberKeys, vapid: Vapid
) -> None:
    """What the sender (pywebpush 2.x with py_vapid's default `Vapid`) puts on the wire."""
    response = send(endpoint, keys, vapid)

    authorization = response.request.headers["Authorization"]
    assert authorization.startswith("vapid t=")
    assert f"k={k_of(vapid)}" in authorization


def test_a_push_without_payload_needs_no_encoding(
    webpush_state: WebPushServerState,
    http: httpx.Client,
    endpoint: str,
    keys: SubscriberKeys,
    vapid: Vapid,
) -> None:
    response = raw_push(http, endpoint, keys, vapid, body=b"", drop=("Content-Encoding",))

    assert response.status_code == 201
    [stored] = webpush_state.messages(sub_id(endpoint))
    assert stored.body == b""
    assert stored.to_json()["payload"] is None


# --- what a push service refuses -----------------------------------------------------------


def test_missing_ttl_is_400(
    webpush_state: WebPushServerState,
    http: httpx.Client,
    endpoint: str,
    keys: SubscriberKeys,
    vapid: Vapid,
) -> None:
    response = raw_push(http, endpoint, keys, vapid, drop=("TTL",))

    assert response.status_code == 400
    assert "TTL" in response.json()["reason"]
    assert raw_push(http, endpoint, keys, vapid, TTL="soon").status_code == 400
    assert webpush_state.messages() == []


@pytest.mark.parametrize(
    ("header", "value"), [("Urgency", "urgent"), ("Topic", "incident 5"), ("Topic", "x" * 33)]
)
def test_bad_urgency_or_topic_is_400(
    http: httpx.Client,
    endpoint: str,
    keys: SubscriberKeys,
    vapid: Vapid,
    header: str,
    value: str,
) -> None:
    response = raw_push(http, endpoint, keys, vapid, extra={header: value})

    assert response.status_code == 400
    assert header in response.json()["reason"]


def test_another_content_encoding_is_415(
    webpush_state: WebPushServerState, endpoint: str, keys: SubscriberKeys, vapid: Vapid
) -> None:
    with pytest.raises(WebPushException) as error:
        send(endpoint, keys, vapid, encoding="aesgcm")  # the pre-RFC 8291 draft

    status, reason = refused(error)
    assert status == 415
    assert "aes128gcm" in reason
    assert webpush_state.messages() == []


def test_a_body_that_is_not_aes128gcm_is_400(
    http: httpx.Client, endpoint: str, keys: SubscriberKeys, vapid: Vapid
) -> None:
    response = raw_push(http, endpoint, keys, vapid, body=b'{"plain": "text"}')

    assert response.status_code == 400
    assert "aes128gcm" in response.json()["reason"]


def test_a_body_over_4096_bytes_is_413(
    webpush_state: WebPushServerState,
    http: httpx.Client,
    endpoint: str,
    keys: SubscriberKeys,
    vapid: Vapid,
) -> None:
    with pytest.raises(WebPushException) as error:
        send(endpoint, keys, vapid, b"x" * 4000)  # 4000 bytes grow past 4096 encrypted

    assert refused(error)[0] == 413
    # The limit is the encrypted body: exactly 4096 bytes is taken.
    limit = raw_push(http, endpoint, keys, vapid, body=encrypted(keys, endpoint, b"y" * 3993))
    assert limit.request.headers["content-length"] == str(MAX_BODY_BYTES)
    assert limit.status_code == 201
    assert len(webpush_state.messages()) == 1


def test_no_authorization_is_401(
    http: httpx.Client, endpoint: str, keys: SubscriberKeys, vapid: Vapid
) -> None:
    missing = raw_push(http, endpoint, keys, vapid, drop=("Authorization",))
    bearer = raw_push(http, endpoint, keys, vapid, Authorization="Bearer abc")
    no_key = raw_push(
        http,
        endpoint,
        keys,
        vapid,
        Authorization=f"vapid t={vapid_jwt(vapid.private_key, 'http://x')}",
    )

    assert [r.status_code for r in (missing, bearer, no_key)] == [401, 401, 401]
    assert "VAPID" in missing.json()["reason"]
    assert "k=" in no_key.json()["reason"]


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("another signer", "signature"),
        ("expired", "expired"),
        ("more than 24 h", "24 hours"),
        ("wrong aud", "aud"),
        ("aud with a path", "aud"),
        ("no sub", "sub"),
        ("sub not a contact", "sub"),
        ("not ES256", "ES256"),
        ("k not a point", "k must be"),
    ],
)
def test_a_vapid_token_that_does_not_hold_is_403(
    webpush_state: WebPushServerState,
    webpush_server: WebPushServerThread,
    http: httpx.Client,
    endpoint: str,
    keys: SubscriberKeys,
    vapid: Vapid,
    case: str,
    reason: str,
) -> None:
    origin, signer, k = webpush_server.url, vapid.private_key, k_of(vapid)
    now = time.time()
    token = {
        "another signer": lambda: vapid_jwt(ec.generate_private_key(ec.SECP256R1()), origin),
        "expired": lambda: vapid_jwt(signer, origin, exp=now - 5),
        "more than 24 h": lambda: vapid_jwt(signer, origin, exp=now + 24 * 3600 + 120),
        "wrong aud": lambda: vapid_jwt(signer, "https://push.example.com"),
        "aud with a path": lambda: vapid_jwt(signer, f"{origin}/push"),
        "no sub": lambda: vapid_jwt(signer, origin, sub=None),
        "sub not a contact": lambda: vapid_jwt(signer, origin, sub="ops@ehbo.example"),
        "not ES256": lambda: jwt.encode(
            {"aud": origin, "exp": int(now) + 60, **CONTACT}, "s" * 32, "HS256"
        ),
        "k not a point": lambda: vapid_jwt(signer, origin),
    }[case]()
    if case == "k not a point":
        k = "AAAA"
    response = raw_push(http, endpoint, keys, vapid, Authorization=f"vapid t={token}, k={k}")

    assert response.status_code == 403, response.text
    assert response.json()["error"] == "forbidden"
    assert reason in response.json()["reason"]
    assert webpush_state.messages() == []


def test_a_token_valid_just_under_24_hours_is_taken(
    http: httpx.Client,
    webpush_server: WebPushServerThread,
    endpoint: str,
    keys: SubscriberKeys,
    vapid: Vapid,
) -> None:
    token = vapid_jwt(vapid.private_key, webpush_server.url, exp=time.time() + 24 * 3600 - 60)
    response = raw_push(
        http, endpoint, keys, vapid, Authorization=f"vapid t={token},k={k_of(vapid)}"
    )

    assert response.status_code == 201, response.text


def test_a_subscription_restricted_to_a_key_refuses_others(
    webpush_server: WebPushServerThread, http: httpx.Client, keys: SubscriberKeys, vapid: Vapid
) -> None:
    """RFC 8292 §3: a subscription made with an applicationServerKey takes only that key."""
    made = http.post(
        "/_admin/subscriptions",
        json={"p256dh": keys.p256dh, "auth": keys.auth, "application_server_key": k_of(vapid)},
    ).json()
    other = Vapid()
    other.generate_keys()

    assert send(made["endpoint"], keys, vapid).status_code == 201
    with pytest.raises(WebPushException) as error:
        send(made["endpoint"], keys, other)
    status, reason = refused(error)
    assert status == 403
    assert "restricted" in reason


def test_unknown_subscription_is_404_and_removed_is_410(
    webpush_state: WebPushServerState,
    webpush_server: WebPushServerThread,
    http: httpx.Client,
    endpoint: str,
    keys: SubscriberKeys,
    vapid: Vapid,
) -> None:
    with pytest.raises(WebPushException) as unknown:
        send(f"{webpush_server.url}/push/nobody", keys, vapid)
    assert refused(unknown)[0] == 404

    assert http.delete(f"/_admin/subscriptions/{sub_id(endpoint)}").json() == {"ok": True}
    with pytest.raises(WebPushException) as gone:
        send(endpoint, keys, vapid)
    status, reason = refused(gone)
    assert status == 410
    assert "removed" in reason
    assert http.delete(f"/_admin/subscriptions/{sub_id(endpoint)}").status_code == 404
    assert webpush_state.messages() == []


# --- faults and latency --------------------------------------------------------------------


def test_faults_per_subscription_answer_n_times_with_retry_after(
    webpush_state: WebPushServerState,
    webpush_server: WebPushServerThread,
    http: httpx.Client,
    endpoint: str,
    keys: SubscriberKeys,
    vapid: Vapid,
) -> None:
    other_keys = SubscriberKeys.generate()
    other = create_subscription(webpush_state, webpush_server.url, other_keys)
    rule = http.post(
        "/_admin/faults",
        json={"subscription": sub_id(endpoint), "status": 429, "count": 2, "retry_after": 7},
    ).json()
    assert rule["remaining"] == 2

    for _ in range(2):
        with pytest.raises(WebPushException) as error:
            send(endpoint, keys, vapid)
        assert error.value.response.status_code == 429
        assert error.value.retry_after == "7"
    assert send(other, other_keys, vapid).status_code == 201  # not that subscription
    assert send(endpoint, keys, vapid).status_code == 201  # the two are used up
    assert http.get("/_admin/faults").json() == {"faults": []}
    assert len(webpush_state.messages(sub_id(endpoint))) == 1


@pytest.mark.parametrize(("status", "retry_after"), [(503, "1"), (500, None), (410, None)])
def test_a_global_fault_answers_any_subscription(
    webpush_state: WebPushServerState,
    endpoint: str,
    keys: SubscriberKeys,
    vapid: Vapid,
    status: int,
    retry_after: str | None,
) -> None:
    webpush_state.fail_next(status)

    with pytest.raises(WebPushException) as error:
        send(endpoint, keys, vapid)
    assert error.value.response.status_code == status
    # 503 (and 429) say when to come back: one second unless the fault says otherwise.
    assert error.value.retry_after == retry_after
    assert send(endpoint, keys, vapid).status_code == 201


def test_a_fault_until_cleared_and_bad_fault_requests(
    webpush_state: WebPushServerState,
    http: httpx.Client,
    endpoint: str,
    keys: SubscriberKeys,
    vapid: Vapid,
) -> None:
    http.post("/_admin/faults", json={"status": 503, "count": None, "retry_after": 30})
    for _ in range(3):
        with pytest.raises(WebPushException) as error:
            send(endpoint, keys, vapid)
        assert error.value.retry_after == "30"
    assert http.delete("/_admin/faults").json() == {"ok": True}
    assert send(endpoint, keys, vapid).status_code == 201

    assert http.post("/_admin/faults", json={"status": 404}).status_code == 400
    assert http.post("/_admin/faults", json={"status": 503, "count": 0}).status_code == 400
    assert http.post("/_admin/faults", json={}).status_code == 400


def test_faults_count_only_pushes_that_would_be_taken(
    webpush_state: WebPushServerState,
    http: httpx.Client,
    endpoint: str,
    keys: SubscriberKeys,
    vapid: Vapid,
) -> None:
    webpush_state.fail_next(503)

    assert raw_push(http, endpoint, keys, vapid, drop=("TTL",)).status_code == 400
    assert raw_push(http, endpoint, keys, vapid).status_code == 503


def test_latency_delays_pushes_not_admin_calls(
    webpush_state: WebPushServerState,
    http: httpx.Client,
    endpoint: str,
    keys: SubscriberKeys,
    vapid: Vapid,
) -> None:
    assert http.put("/_admin/latency", json={"seconds": 0.3}).json() == {"ok": True}
    started = time.monotonic()
    http.get("/_admin/messages")
    admin_s = time.monotonic() - started
    started = time.monotonic()
    assert send(endpoint, keys, vapid).status_code == 201

    assert time.monotonic() - started >= 0.3
    assert admin_s < 0.3
    assert http.put("/_admin/latency", json={"seconds": -1}).status_code == 400


# --- admin API -----------------------------------------------------------------------------


def test_admin_subscriptions_with_and_without_keys_the_service_can_read(
    webpush_state: WebPushServerState,
    webpush_server: WebPushServerThread,
    http: httpx.Client,
    vapid: Vapid,
) -> None:
    mine = SubscriberKeys.generate()
    made = http.post("/_admin/subscriptions", json={}).json()  # the service makes the keys
    published = http.post(
        "/_admin/subscriptions", json={"p256dh": mine.p256dh, "auth": mine.auth}
    ).json()
    private = http.post(
        "/_admin/subscriptions",
        json={"private_key": mine.private_key_pem, "auth": mine.auth, "label": "42"},
    ).json()
    assert made["endpoint"] == f"{webpush_server.url}/push/{made['id']}"
    assert (made["readable"], published["readable"], private["readable"]) == (True, False, True)
    assert private["keys"] == {"p256dh": mine.p256dh, "auth": mine.auth}

    # A sender needs only the public half, which the answer gives.
    sent = {"endpoint": made["endpoint"], "keys": made["keys"]}
    webpush(sent, json.dumps(PAYLOAD), vapid_private_key=vapid, vapid_claims=dict(CONTACT))
    for endpoint in (published["endpoint"], private["endpoint"]):
        send(endpoint, mine, vapid)

    listed = http.get("/_admin/messages").json()["messages"]
    assert [m["subscription"] for m in listed] == [made["id"], published["id"], private["id"]]
    assert [m["payload"] for m in listed] == [PAYLOAD, None, PAYLOAD]
    assert set(listed[0]) >= {
        "id",
        "subscription",
        "received_at",
        "ttl",
        "urgency",
        "topic",
        "size",
        "payload",
    }
    only = http.get("/_admin/messages", params={"subscription": private["id"]}).json()
    assert [m["id"] for m in only["messages"]] == [listed[2]["id"]]
    labels = {
        s["id"]: s["label"] for s in http.get("/_admin/subscriptions").json()["subscriptions"]
    }
    assert labels[private["id"]] == "42"


def test_admin_subscription_bodies_are_checked(http: httpx.Client) -> None:
    mine, other = SubscriberKeys.generate(), SubscriberKeys.generate()
    bad = [
        {"p256dh": mine.p256dh},  # without auth
        {"p256dh": "short", "auth": mine.auth},
        {"p256dh": NOT_A_POINT, "auth": mine.auth},  # 65 bytes, but not on the curve
        {"private_key": mine.private_key_pem},  # without auth: nothing could decrypt
        {"private_key": mine.private_key_pem, "auth": mine.auth, "p256dh": other.p256dh},
        {"private_key": "not a key", "auth": mine.auth},
        {"label": 5},
    ]
    for body in bad:
        response = http.post("/_admin/subscriptions", json=body)
        assert response.status_code == 400, body
        assert response.json()["code"] == "invalid"
    assert http.post("/_admin/subscriptions", content=b"[]").status_code == 400


def test_a_subscription_can_be_made_again_under_its_old_id(
    webpush_state: WebPushServerState,
    webpush_server: WebPushServerThread,
    keys: SubscriberKeys,
    vapid: Vapid,
) -> None:
    """A demo restarted on the database of an earlier run keeps its devices' endpoints."""
    endpoint = create_subscription(webpush_state, webpush_server.url, keys, subscription_id="v7")
    assert endpoint == f"{webpush_server.url}/push/v7"
    webpush_state.unsubscribe("v7")
    create_subscription(webpush_state, webpush_server.url, keys, subscription_id="v7")

    assert send(endpoint, keys, vapid).status_code == 201


def test_a_removed_subscriptions_messages_stay_readable(
    webpush_state: WebPushServerState, endpoint: str, keys: SubscriberKeys, vapid: Vapid
) -> None:
    send(endpoint, keys, vapid)
    webpush_state.unsubscribe(sub_id(endpoint))

    [listed] = [m.to_json() for m in webpush_state.messages()]
    assert listed["payload"] == PAYLOAD


def test_admin_reset_forgets_everything(
    webpush_state: WebPushServerState,
    http: httpx.Client,
    endpoint: str,
    keys: SubscriberKeys,
    vapid: Vapid,
) -> None:
    send(endpoint, keys, vapid)
    webpush_state.fail_next(503, None)
    webpush_state.latency_s = 0.5

    assert http.post("/_admin/reset").json() == {"ok": True}

    assert webpush_state.messages() == []
    assert webpush_state.faults() == []
    assert webpush_state.latency_s == 0
    assert http.get("/_admin/subscriptions").json() == {"subscriptions": []}
    with pytest.raises(WebPushException) as error:
        send(endpoint, keys, vapid)
    assert refused(error)[0] == 404


def test_admin_delete_messages(
    webpush_state: WebPushServerState,
    webpush_server: WebPushServerThread,
    http: httpx.Client,
    endpoint: str,
    keys: SubscriberKeys,
    vapid: Vapid,
) -> None:
    other = create_subscription(webpush_state, webpush_server.url, keys)
    send(endpoint, keys, vapid)
    send(other, keys, vapid)

    deleted = http.delete("/_admin/messages", params={"subscription": sub_id(endpoint)})
    assert deleted.json() == {"deleted": 1}
    assert [m.subscription for m in webpush_state.messages()] == [sub_id(other)]
    assert http.delete("/_admin/messages").json() == {"deleted": 1}


def test_the_store_is_bounded_per_subscription_and_overall(keys: SubscriberKeys) -> None:
    state = WebPushServerState(per_subscription_cap=2, total_cap=3)
    first, second = state.subscribe(keys), state.subscribe(keys)
    for n in range(3):
        state.record(first, {"ttl": "0"}, bytes([n]))
    state.record(second, {"ttl": "0"}, b"s1")
    state.record(second, {"ttl": "0"}, b"s2")

    assert [m.body for m in state.messages(first.id)] == [b"\x02"]
    assert [m.body for m in state.messages(second.id)] == [b"s1", b"s2"]
    assert [m.body for m in state.messages()] == [b"\x02", b"s1", b"s2"]


def test_a_message_is_decrypted_once_however_often_it_is_listed(
    keys: SubscriberKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo phone lists every message every 2 s: the payload is read the first time."""
    state = WebPushServerState()
    subscription = state.subscribe(keys)
    state.record(subscription, {"ttl": "0"}, encrypted(keys, "https://push.test/x"))
    calls = []
    real = http_ece.decrypt

    def counting(*args: Any, **kwargs: Any) -> bytes:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(http_ece, "decrypt", counting)
    listed = [m.to_json()["payload"] for _ in range(3) for m in state.messages()]

    assert listed == [{"v": "1"}] * 3
    assert len(calls) == 1


# --- mounted, and the server ---------------------------------------------------------------


async def test_mounted_under_a_path_endpoints_and_locations_carry_it(vapid: Vapid) -> None:
    """The demo mounts the service under /webpush of the API's port; `aud` stays the origin."""
    service = create_webpush_app()
    outer = Starlette(routes=[Mount("/webpush", service)])
    transport = httpx.ASGITransport(app=outer)
    async with httpx.AsyncClient(transport=transport, base_url="http://demo.test:8000") as http:
        made = (await http.post("/webpush/_admin/subscriptions", json={})).json()
        endpoint = made["endpoint"]
        assert endpoint == f"http://demo.test:8000/webpush/push/{made['id']}"
        subscription = {"endpoint": endpoint, "keys": made["keys"]}
        sent = WebPusher(subscription).encode(json.dumps(PAYLOAD).encode())["body"]
        claims = {"aud": "http://demo.test:8000", "exp": int(time.time()) + 600, **CONTACT}
        headers = {
            **vapid.sign(claims),
            "TTL": "30",
            "Content-Encoding": "aes128gcm",
        }
        response = await http.post(endpoint, content=sent, headers=headers)
        assert response.status_code == 201, response.text
        [stored] = service.state.webpush.messages()
        assert response.headers["Location"] == f"/webpush/message/{stored.id}"
        assert stored.to_json()["payload"] == PAYLOAD


def test_the_server_thread_starts_and_stops_on_a_free_port(vapid: Vapid) -> None:
    keys = SubscriberKeys.generate()
    with WebPushServerThread() as server:
        assert server.port > 0
        endpoint = create_subscription(server.state, server.url, keys)
        assert send(endpoint, keys, vapid).status_code == 201
        assert len(server.state.messages()) == 1
    with pytest.raises(OSError), socket.create_connection((server.host, server.port), 1):
        pass


def test_the_service_runs_as_a_module_without_warnings() -> None:
    run = subprocess.run(
        [sys.executable, "-W", "error", "-m", "responders.emulators.webpush", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert "--origin" in run.stdout
    assert run.stderr == ""
