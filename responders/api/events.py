"""Live incident updates: one LISTEN connection per process fans out to SSE subscribers.

Subscribers only learn "something changed for incident N" and then read the timeline
after their last seen event id, so a lost notification costs latency, never an event.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Iterator

from responders.db.listen import libpq_dsn, listen_forever

__all__ = ["EventHub", "Subscription"]


class Subscription:
    """One subscriber's news flag: set by notifications, cleared by `wait`."""

    def __init__(self, event: asyncio.Event) -> None:
        self._event = event

    async def wait(self, within_s: float) -> bool:
        """True at once if news came since the last call, else when it comes; False after
        `within_s` seconds without news."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), within_s)
        news = self._event.is_set()
        self._event.clear()
        return news


class EventHub:
    def __init__(self, database_url: str) -> None:
        self._dsn = libpq_dsn(database_url)
        self._waiters: dict[int, set[asyncio.Event]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(
            listen_forever(self._dsn, "incident_events", self._on_notify, self._on_connect),
            name="event-hub",
        )

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @contextlib.contextmanager
    def subscribe(self, incident_id: int) -> Iterator[Subscription]:
        """News of one incident for as long as the block runs: a notification that comes
        while the subscriber is busy (reading the timeline, re-checking its credential) is
        kept for its next `wait`, never lost in between."""
        event = asyncio.Event()
        self._waiters[incident_id].add(event)
        try:
            yield Subscription(event)
        finally:
            self._waiters[incident_id].discard(event)
            if not self._waiters[incident_id]:
                del self._waiters[incident_id]

    async def wait(self, incident_id: int, within_s: float) -> bool:
        """Returns when the incident has news (True), or after `within_s` seconds (False)."""
        with self.subscribe(incident_id) as news:
            return await news.wait(within_s)

    def _on_connect(self) -> None:
        # Notifications sent while the connection was down are lost: every subscriber
        # rereads its timeline now instead of at its next timeout.
        for events in self._waiters.values():
            for event in events:
                event.set()

    def _on_notify(self, payload: str) -> None:
        with contextlib.suppress(ValueError):
            for event in self._waiters.get(int(payload), ()):
                event.set()
