"""What the local push service knows: subscriptions, received messages, faults, latency.

The lock, messages, fault rules and latency are `ServiceState`'s (shared with the local FCM
server); the subscriptions are the push service's own, under the same lock. Decryption (for
`payload`) runs outside the lock.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import http_ece

from responders.emulators._state_kit import ServiceState
from responders.emulators.webpush._keys import SubscriberKeys

__all__ = [
    "FAULT_STATUSES",
    "FaultRule",
    "ReceivedPush",
    "Subscription",
    "WebPushServerState",
]

# What a push service answers when it will not take a message now: gone, slow down,
# broken, unavailable (RFC 8030 §5 and §8.4; 429/503 say when to come back).
FAULT_STATUSES = frozenset({410, 429, 500, 503})
_RETRY_AFTER_BY_DEFAULT = frozenset({429, 503})


@dataclass(frozen=True)
class Subscription:
    """A push subscription the service hands out: `/push/<id>` is its endpoint path.

    `keys` (with the private key) lets the service read the payloads, which a real push
    service never can: the demo and tests use it to show what "the phone" got. `label` is a
    free note on whose it is (the demo writes the volunteer's id). `application_server_key`,
    when set, restricts the subscription to pushes signed with that VAPID key (RFC 8292 §3).
    """

    id: str
    created_at: float
    p256dh: str | None = None
    auth: str | None = None
    keys: SubscriberKeys | None = field(default=None, repr=False)
    label: str | None = None
    application_server_key: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "created_at": _iso(self.created_at),
            "p256dh": self.p256dh,
            "auth": self.auth,
            "readable": self.keys is not None,
            "label": self.label,
            "application_server_key": self.application_server_key,
        }


@dataclass(frozen=True)
class ReceivedPush:
    """One accepted push message: its headers (lower-case names) and encrypted body."""

    id: str
    subscription: str
    received_at: float  # UNIX seconds
    headers: Mapping[str, str]
    body: bytes
    # The subscription's keys when the service knows them: the payload stays readable after
    # the subscription is removed.
    keys: SubscriberKeys | None = field(default=None, repr=False, compare=False)
    label: str | None = None  # the subscription's, kept for the same reason

    @property
    def ttl(self) -> int:
        return int(self.headers["ttl"])

    @property
    def urgency(self) -> str:
        return self.headers.get("urgency", "normal")

    @property
    def topic(self) -> str | None:
        return self.headers.get("topic")

    @property
    def size(self) -> int:
        return len(self.body)

    def read(self) -> tuple[Any, str | None]:
        """(payload, None) when the keys are known and the body decrypts: the payload is the
        JSON it holds, else its text; (None, why) when it does not decrypt; else (None, None).
        """
        return self._reading

    @cached_property
    def _reading(self) -> tuple[Any, str | None]:
        # Once per message: the demo phone lists every message every 2 s, and an ECDH
        # decryption each time would grow with the demo's length. (The body never changes;
        # cached_property writes the instance's __dict__, which a frozen dataclass allows.)
        if self.keys is None or not self.body:
            return None, None
        try:
            plain = self.keys.decrypt(self.body)
        except (http_ece.ECEException, ValueError) as exc:  # ValueError: a bad key in it
            return None, f"does not decrypt with the subscription's keys: {exc}"
        try:
            return json.loads(plain), None
        except ValueError:
            return plain.decode("utf-8", errors="replace"), None

    def to_json(self) -> dict[str, Any]:
        payload, error = self.read()
        return {
            "id": self.id,
            "subscription": self.subscription,
            "received_at": _iso(self.received_at),
            "received_at_unix": self.received_at,
            "ttl": self.ttl,
            "urgency": self.urgency,
            "topic": self.topic,
            "size": self.size,
            "payload": payload,
            "decrypt_error": error,
            "label": self.label,
        }


@dataclass
class FaultRule:
    """Answer the next `remaining` pushes (None: until cleared) to `subscription` (None: any)
    with `status`, and `Retry-After: retry_after_s` when set."""

    id: int
    status: int
    remaining: int | None
    subscription: str | None
    retry_after_s: int | None

    def matches(self, subscription: str) -> bool:
        return self.subscription is None or self.subscription == subscription

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "remaining": self.remaining,
            "subscription": self.subscription,
            "retry_after": self.retry_after_s,
        }


class WebPushServerState(ServiceState[ReceivedPush, FaultRule]):
    """Thread-safe state and fault injection of the local push service.

    `origin`: the origin a VAPID `aud` must name; None (the default) takes it from each
    request's URL, which is right unless a proxy rewrites the Host.
    """

    def __init__(
        self,
        *,
        origin: str | None = None,
        per_subscription_cap: int = 100,
        total_cap: int = 10_000,
        default_retry_after_s: int = 1,
    ) -> None:
        super().__init__(
            lambda m: m.subscription,
            per_recipient_cap=per_subscription_cap,
            total_cap=total_cap,
            default_retry_after_s=default_retry_after_s,
        )
        self.origin = origin
        self._subscriptions: dict[str, Subscription] = {}
        self._removed: set[str] = set()

    # --- subscriptions -----------------------------------------------------------------------

    def subscribe(
        self,
        keys: SubscriberKeys | None = None,
        *,
        p256dh: str | None = None,
        auth: str | None = None,
        label: str | None = None,
        subscription_id: str | None = None,
        application_server_key: str | None = None,
    ) -> Subscription:
        """A new subscription. With `keys` the service can read its payloads; `p256dh` and
        `auth` alone only record what the subscriber published. `subscription_id` re-creates
        a known endpoint (a demo restarted on an old database); by default it is random and
        unguessable, as a push service's are."""
        sub_id = subscription_id or secrets.token_urlsafe(16)
        if keys is not None:
            p256dh, auth = keys.p256dh, keys.auth
        subscription = Subscription(
            id=sub_id,
            created_at=time.time(),
            p256dh=p256dh,
            auth=auth,
            keys=keys,
            label=label,
            application_server_key=application_server_key,
        )
        with self._lock:
            self._subscriptions[sub_id] = subscription
            self._removed.discard(sub_id)
        return subscription

    def unsubscribe(self, subscription_id: str) -> bool:
        """Remove it (the user revoked it): pushes to it get 410 from now on."""
        with self._lock:
            if self._subscriptions.pop(subscription_id, None) is None:
                return False
            self._removed.add(subscription_id)
            return True

    def subscription(self, subscription_id: str) -> Subscription | None:
        with self._lock:
            return self._subscriptions.get(subscription_id)

    def subscriptions(self) -> list[Subscription]:
        with self._lock:
            return list(self._subscriptions.values())

    def was_removed(self, subscription_id: str) -> bool:
        with self._lock:
            return subscription_id in self._removed

    # --- fault injection -------------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        count: int | None = 1,
        *,
        subscription: str | None = None,
        retry_after_s: int | None = None,
    ) -> FaultRule:
        """Answer the next `count` valid pushes (to `subscription`, if given) with `status`.

        `count=None` keeps failing until `clear_faults()`. 429 and 503 get a Retry-After of
        `default_retry_after_s` unless `retry_after_s` says otherwise.
        """
        if status not in FAULT_STATUSES:
            raise ValueError(f"status must be one of {sorted(FAULT_STATUSES)}")
        if count is not None and count < 1:
            raise ValueError("count must be at least 1 (or None for until cleared)")
        if retry_after_s is not None and retry_after_s < 0:
            raise ValueError("retry_after must not be negative")
        if retry_after_s is None and status in _RETRY_AFTER_BY_DEFAULT:
            retry_after_s = self.default_retry_after_s
        return self._add_rule(
            lambda rule_id: FaultRule(rule_id, status, count, subscription, retry_after_s)
        )

    def reset(self) -> None:
        """A fresh service: no subscriptions, messages, faults or latency."""
        with self._lock:
            self._reset_shared()
            self._subscriptions.clear()
            self._removed.clear()

    # --- what was received -----------------------------------------------------------------

    def record(
        self, subscription: Subscription, headers: Mapping[str, str], body: bytes
    ) -> ReceivedPush:
        received = ReceivedPush(
            id=secrets.token_urlsafe(12),
            subscription=subscription.id,
            received_at=time.time(),
            headers=dict(headers),
            body=body,
            keys=subscription.keys,
            label=subscription.label,
        )
        return self._keep(received)


def _iso(unix: float) -> str:
    return datetime.fromtimestamp(unix, UTC).isoformat()
