"""What a local service received, kept in ring buffers: per recipient and overall, so memory
stays bounded in a long demo. Not thread-safe on its own: each service holds its lock."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["Mailboxes"]

T = TypeVar("T")


class Mailboxes(Generic[T]):
    def __init__(self, recipient: Callable[[T], str], per_box_cap: int, total_cap: int) -> None:
        self._recipient = recipient
        self._per_box_cap = per_box_cap
        self._total_cap = total_cap
        self.boxes: dict[str, deque[T]] = {}
        self._order: deque[T] = deque()

    def add(self, received: T) -> None:
        if len(self._order) >= self._total_cap:
            self._evict(self._order.popleft())
        self._order.append(received)
        key = self._recipient(received)
        self.boxes.setdefault(key, deque(maxlen=self._per_box_cap)).append(received)

    def _evict(self, oldest: T) -> None:
        key = self._recipient(oldest)
        box = self.boxes.get(key)
        # The per-recipient cap may have dropped it already; then it is not at the left end.
        if box and box[0] is oldest:
            box.popleft()
        if box is not None and not box:
            del self.boxes[key]

    def all(self) -> list[T]:
        # The overall order may still hold entries a recipient's ring has dropped: skip those.
        alive = {id(m) for box in self.boxes.values() for m in box}
        return [m for m in self._order if id(m) in alive]

    def clear(self, recipient: str | None) -> int:
        """Forget one recipient's messages, or all (None); how many were kept."""
        if recipient is None:
            count = len(self.all())
            self.boxes.clear()
            self._order.clear()
            return count
        removed = self.boxes.pop(recipient, deque())
        gone = {id(m) for m in removed}
        self._order = deque(m for m in self._order if id(m) not in gone)
        return len(removed)
