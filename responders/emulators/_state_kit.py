"""The state both local services share: one lock, what was received (in `Mailboxes`), the
fault rules that answer the next sends, and the latency before each answer.

One lock guards everything: the server's event loop and test or demo threads touch the state
at the same time, and every critical section is a few dictionary operations. A service's
own state (subscriptions, outage, …) lives in its subclass, under the same lock.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from responders.emulators._mailbox import Mailboxes

__all__ = ["Rule", "ServiceState"]


class Rule(Protocol):
    """A fault rule: answers the next `remaining` sends (None: until cleared) it matches."""

    remaining: int | None

    def matches(self, recipient: str, /) -> bool: ...


M = TypeVar("M")
R = TypeVar("R", bound=Rule)


class ServiceState(Generic[M, R]):
    def __init__(
        self,
        recipient: Callable[[M], str],
        *,
        per_recipient_cap: int,
        total_cap: int,
        default_retry_after_s: int,
    ) -> None:
        self.default_retry_after_s = default_retry_after_s
        self._lock = threading.Lock()
        self._store = Mailboxes[M](recipient, per_recipient_cap, total_cap)
        self._rules: list[R] = []
        self._rule_ids = itertools.count(1)
        self._latency_s = 0.0

    # --- fault rules -------------------------------------------------------------------------

    def _add_rule(self, make: Callable[[int], R]) -> R:
        """The rule `make(id)` builds, appended (checked by the caller beforehand)."""
        with self._lock:
            rule = make(next(self._rule_ids))
            self._rules.append(rule)
            return rule

    def clear_faults(self) -> None:
        with self._lock:
            self._rules.clear()

    def faults(self) -> list[R]:
        with self._lock:
            return list(self._rules)

    def take_fault(self, recipient: str) -> R | None:
        """The first rule matching `recipient`, consuming one of its sends."""
        with self._lock:
            for index, rule in enumerate(self._rules):
                if not rule.matches(recipient):
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        del self._rules[index]
                return rule
            return None

    # --- latency -----------------------------------------------------------------------------

    @property
    def latency_s(self) -> float:
        """Delay before each send is answered (admin calls are not delayed)."""
        with self._lock:
            return self._latency_s

    @latency_s.setter
    def latency_s(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("latency must not be negative")
        with self._lock:
            self._latency_s = float(seconds)

    # --- what was received -------------------------------------------------------------------

    def _keep(self, received: M) -> M:
        with self._lock:
            self._store.add(received)
        return received

    def messages(self, recipient: str | None = None) -> list[M]:
        """Accepted messages, oldest first; for one recipient or all."""
        with self._lock:
            if recipient is None:
                return self._store.all()
            return list(self._store.boxes.get(recipient, ()))

    def clear_messages(self, recipient: str | None = None) -> int:
        with self._lock:
            return self._store.clear(recipient)

    def _reset_shared(self) -> None:
        """Forget messages, faults and latency; the caller holds the lock."""
        self._store.clear(None)
        self._rules.clear()
        self._latency_s = 0.0
