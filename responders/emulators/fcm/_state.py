"""What the local FCM server knows: received messages, injected faults, outage, latency.

The lock, messages, fault rules and latency are `ServiceState`'s (shared with the local push
service); the outage, unregistered tokens and statistics are FCM's own, under the same lock.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from responders.emulators._state_kit import ServiceState
from responders.emulators.fcm._errors import FaultKind

__all__ = ["FaultRule", "FcmServerState", "ReceivedMessage"]


@dataclass(frozen=True)
class ReceivedMessage:
    """One accepted message, as "the phone" behind `target` would get it."""

    message_id: str
    name: str  # projects/{project}/messages/{message_id}, what firebase-admin returns
    project: str
    target_field: str  # token / fid / topic / condition
    target: str
    received_at: float  # UNIX seconds
    message: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "name": self.name,
            "project": self.project,
            "target_field": self.target_field,
            "target": self.target,
            # ISO 8601 UTC like the rest of the service's JSON; the float for timings.
            "received_at": datetime.fromtimestamp(self.received_at, UTC).isoformat(),
            "received_at_unix": self.received_at,
            "message": self.message,
        }


@dataclass
class FaultRule:
    """Fail the next `remaining` sends (None: until cleared) to `tokens` (None: any)."""

    id: int
    kind: FaultKind
    remaining: int | None
    tokens: frozenset[str] | None
    retry_after_s: int | None

    def matches(self, target: str) -> bool:
        return self.tokens is None or target in self.tokens

    def to_json(self) -> dict[str, Any]:
        tokens = sorted(self.tokens) if self.tokens is not None else None
        return {
            "id": self.id,
            "kind": self.kind.value,
            "remaining": self.remaining,
            "tokens": tokens,
            "retry_after_s": self.retry_after_s,
        }


@dataclass(frozen=True)
class Outage:
    """An outage: every send answers UNAVAILABLE until `until` (monotonic; None: cleared)."""

    until: float | None
    retry_after_s: int | None


class FcmServerState(ServiceState[ReceivedMessage, FaultRule]):
    """Thread-safe state and fault injection of the local FCM server.

    `unregistered_prefix`: tokens starting with it answer UNREGISTERED, so demo data can hold
    dead tokens without setup calls (off by default). `access_token`: when set, only that
    bearer token is accepted. `project_id`: when set, other projects get 403.
    """

    def __init__(
        self,
        *,
        project_id: str | None = None,
        access_token: str | None = None,
        unregistered_prefix: str | None = None,
        per_token_cap: int = 100,
        total_cap: int = 10_000,
        default_retry_after_s: int = 1,
    ) -> None:
        super().__init__(
            lambda m: m.target,
            per_recipient_cap=per_token_cap,
            total_cap=total_cap,
            default_retry_after_s=default_retry_after_s,
        )
        self.project_id = project_id
        self.access_token = access_token
        self.unregistered_prefix = unregistered_prefix
        self._unregistered: set[str] = set()
        self._outage: Outage | None = None
        self._outcomes: Counter[str] = Counter()

    # --- fault injection -------------------------------------------------------------------

    def fail_next(
        self,
        kind: FaultKind | str,
        count: int | None = 1,
        *,
        tokens: Iterable[str] | None = None,
        retry_after_s: int | None = None,
    ) -> FaultRule:
        """Answer the next `count` valid sends (to `tokens`, if given) with `kind`.

        `count=None` keeps failing until `clear_faults()`. QUOTA_EXCEEDED gets a Retry-After
        of `default_retry_after_s` unless `retry_after_s` says otherwise.
        """
        kind = FaultKind(kind)
        if count is not None and count < 1:
            raise ValueError("count must be at least 1 (or None for until cleared)")
        if retry_after_s is None and kind is FaultKind.QUOTA_EXCEEDED:
            retry_after_s = self.default_retry_after_s
        targets = frozenset(tokens) if tokens is not None else None
        return self._add_rule(
            lambda rule_id: FaultRule(rule_id, kind, count, targets, retry_after_s)
        )

    def unregister(self, *tokens: str) -> None:
        """Make these tokens answer UNREGISTERED from now on (an app uninstall)."""
        with self._lock:
            self._unregistered.update(tokens)

    def reregister(self, *tokens: str) -> None:
        """Undo `unregister`; without arguments, for all tokens."""
        with self._lock:
            if tokens:
                self._unregistered.difference_update(tokens)
            else:
                self._unregistered.clear()

    def start_outage(
        self, duration_s: float | None = None, *, retry_after_s: int | None = None
    ) -> None:
        """Every send answers UNAVAILABLE, for `duration_s` or until `end_outage()`."""
        until = time.monotonic() + duration_s if duration_s is not None else None
        with self._lock:
            self._outage = Outage(until, retry_after_s)

    def end_outage(self) -> None:
        with self._lock:
            self._outage = None

    def reset(self) -> None:
        """Forget messages, faults, unregistered tokens, outage, latency and statistics."""
        with self._lock:
            self._reset_shared()
            self._unregistered.clear()
            self._outage = None
            self._outcomes.clear()

    # --- statistics (messages, faults and latency: see ServiceState) -----------------------

    def stats(self) -> dict[str, Any]:
        """Answers given so far by outcome ("OK" or the error code) and what is stored."""
        with self._lock:
            return {
                "outcomes": dict(self._outcomes),
                "stored": sum(len(box) for box in self._store.boxes.values()),
                "targets": len(self._store.boxes),
                "unregistered": sorted(self._unregistered),
                "outage": self._outage_active(time.monotonic()),
                "latency_s": self._latency_s,
            }

    # --- hooks used by the send handler ------------------------------------------------------

    def current_outage(self) -> Outage | None:
        with self._lock:
            return self._outage if self._outage_active(time.monotonic()) else None

    def is_unregistered(self, target: str) -> bool:
        prefix = self.unregistered_prefix
        with self._lock:
            return target in self._unregistered or bool(prefix and target.startswith(prefix))

    def record(
        self, project: str, target_field: str, target: str, message: Mapping[str, Any]
    ) -> ReceivedMessage:
        # Shaped like FCM's ids ("0:<ms>%<hex>") so UIs show realistic values.
        message_id = f"0:{time.time_ns() // 1_000_000}%{secrets.token_hex(8)}"
        received = ReceivedMessage(
            message_id=message_id,
            name=f"projects/{project}/messages/{message_id}",
            project=project,
            target_field=target_field,
            target=target,
            received_at=time.time(),
            message=message,
        )
        return self._keep(received)

    def count_outcome(self, outcome: str) -> None:
        with self._lock:
            self._outcomes[outcome] += 1

    def _outage_active(self, now: float) -> bool:
        outage = self._outage
        if outage is None:
            return False
        if outage.until is not None and now >= outage.until:
            self._outage = None
            return False
        return True
