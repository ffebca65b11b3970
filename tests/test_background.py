"""A background loop stops when cancelled, even when a round swallowed the cancellation
(as Python 3.11's `asyncio.wait_for` inside psycopg's pool can)."""

from __future__ import annotations

import asyncio
import contextlib

from responders.background import pause


async def test_a_loop_whose_round_swallowed_the_cancel_still_stops() -> None:
    rounds = 0

    async def loop() -> None:
        nonlocal rounds
        while True:
            rounds += 1
            # A round that loses the cancel, as a racing wait_for does, and carries on.
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(10)
            await pause(0.01)

    task = asyncio.create_task(loop())
    await asyncio.sleep(0.05)
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=2)
    assert done == {task} and task.cancelled()
    assert rounds == 1


async def test_pause_sleeps_when_nobody_asked_to_stop() -> None:
    began = asyncio.get_running_loop().time()
    await pause(0.05)
    assert asyncio.get_running_loop().time() - began >= 0.04
