"""The event hub keeps news that comes while a subscriber is busy (reading its timeline,
re-checking its credential): the console's live view once missed an update for 15 s."""

from __future__ import annotations

import time

from responders.api.events import EventHub


async def test_news_while_busy_is_kept_for_the_next_wait() -> None:
    hub = EventHub("postgresql://127.0.0.1/unused")  # never started: notified by hand
    with hub.subscribe(7) as feed:
        hub._on_notify("7")  # arrives while the stream is not waiting
        hub._on_notify("8")  # another incident's news is not ours
        began = time.monotonic()
        assert await feed.wait(5) is True
        assert time.monotonic() - began < 1, "kept news answers at once"
        assert await feed.wait(0.05) is False, "news is taken once"
    assert 7 not in hub._waiters, "the subscription ends with its block"
