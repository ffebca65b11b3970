"""The decision behind one `POST /push/{id}` (RFC 8030 §5), free of HTTP so it reads top to
bottom.

Order: the subscription (404 unknown, 410 removed), VAPID (401/403), the headers (TTL,
Urgency, Topic: 400), the body (Content-Encoding 415, size 413, aes128gcm framing 400),
injected faults, then accept (201). Faults come after validation so "fail the next N"
counts only pushes the service would otherwise have taken.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from responders.emulators.webpush._state import Subscription, WebPushServerState
from responders.emulators.webpush._vapid import VapidError, verify_vapid

__all__ = ["MAX_BODY_BYTES", "MAX_TTL_S", "Reply", "handle_push"]

MAX_BODY_BYTES = 4096  # RFC 8030 §7.2: what every push service takes (and all we take)
MAX_TTL_S = 28 * 24 * 60 * 60  # longer TTLs are cut to this, as FCM's service does
_URGENCIES = frozenset({"very-low", "low", "normal", "high"})
_TOPIC = re.compile(r"[A-Za-z0-9_-]{1,32}")  # RFC 8030 §5.4: ≤ 32 base64url characters
_SALT_RS_IDLEN = 21  # RFC 8188 §2.1: salt (16) + record size (4) + idlen (1)
_TAG_AND_DELIMITER = 17  # the last record's GCM tag and padding delimiter
_STORED_HEADERS = ("ttl", "urgency", "topic", "content-encoding")


@dataclass(frozen=True)
class Reply:
    status: int
    body: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


class _Refused(Exception):
    def __init__(self, status: int, error: str, reason: str, **headers: str) -> None:
        super().__init__(reason)
        self.reply = Reply(status, {"error": error, "reason": reason}, headers)


def handle_push(
    state: WebPushServerState,
    subscription_id: str,
    headers: Mapping[str, str],
    body: bytes | None,
    audience: str,
) -> Reply:
    """`headers` with lower-case names; `body` None when it was longer than MAX_BODY_BYTES;
    `audience` the origin the VAPID `aud` must name. 201 carries the message id."""
    try:
        subscription = _subscription(state, subscription_id)
        _vapid(subscription, headers, audience)
        stored = _stored_headers(headers)
        payload = _body(headers, body)
    except _Refused as refused:
        return refused.reply
    rule = state.take_fault(subscription_id)
    if rule is not None:
        extra = {"Retry-After": str(rule.retry_after_s)} if rule.retry_after_s is not None else {}
        reason = f"injected fault: {rule.status}"
        return Reply(rule.status, {"error": "fault", "reason": reason}, extra)
    received = state.record(subscription, stored, payload)
    # The message's resource, relative to the service's root (the server prefixes a mount).
    return Reply(201, None, {"Location": f"/message/{received.id}", "TTL": stored["ttl"]})


def _subscription(state: WebPushServerState, subscription_id: str) -> Subscription:
    subscription = state.subscription(subscription_id)
    if subscription is not None:
        return subscription
    if state.was_removed(subscription_id):
        raise _Refused(410, "gone", "the subscription was removed: stop sending to it")
    raise _Refused(404, "not_found", "no such subscription")


def _vapid(subscription: Subscription, headers: Mapping[str, str], audience: str) -> None:
    try:
        sender = verify_vapid(headers.get("authorization"), headers.get("crypto-key"), audience)
    except VapidError as exc:
        error = "unauthorized" if exc.status == 401 else "forbidden"
        raise _Refused(exc.status, error, exc.reason) from exc
    restricted = subscription.application_server_key
    if restricted is not None and sender.public_key.rstrip("=") != restricted.rstrip("="):
        raise _Refused(
            403, "forbidden", "the subscription is restricted to another application server key"
        )


def _stored_headers(headers: Mapping[str, str]) -> dict[str, str]:
    ttl_text = headers.get("ttl")
    if ttl_text is None:
        raise _Refused(400, "bad_request", "the TTL header is required (RFC 8030 §5.2)")
    if not ttl_text.strip().isdigit():
        raise _Refused(400, "bad_request", "TTL must be a whole number of seconds")
    urgency = headers.get("urgency")
    if urgency is not None and urgency.strip().lower() not in _URGENCIES:
        raise _Refused(400, "bad_request", f"Urgency must be one of {sorted(_URGENCIES)}")
    topic = headers.get("topic")
    if topic is not None and not _TOPIC.fullmatch(topic.strip()):
        raise _Refused(400, "bad_request", "Topic must be 1 to 32 base64url characters")
    stored = {name: headers[name].strip() for name in _STORED_HEADERS if name in headers}
    stored["ttl"] = str(min(int(ttl_text), MAX_TTL_S))
    if urgency is not None:
        stored["urgency"] = urgency.strip().lower()
    return stored


def _body(headers: Mapping[str, str], body: bytes | None) -> bytes:
    encoding = (headers.get("content-encoding") or "").strip().lower()
    if body == b"" and not encoding:
        return body  # a push without payload needs no encryption (RFC 8030 §5)
    if encoding != "aes128gcm":
        raise _Refused(415, "unsupported_encoding", "Content-Encoding must be aes128gcm (RFC 8291)")
    if body is None:
        raise _Refused(
            413, "too_large", f"the body is larger than {MAX_BODY_BYTES} bytes (RFC 8030 §7.2)"
        )
    if len(body) < _SALT_RS_IDLEN or len(body) < _SALT_RS_IDLEN + body[20] + _TAG_AND_DELIMITER:
        raise _Refused(400, "bad_request", "the body is not an aes128gcm message (RFC 8188)")
    return body
