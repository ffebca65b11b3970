"""Live locations, written in groups: the hottest write in the system.

Every update from a phone waits a few milliseconds for others, then all of them go to the
database in one statement (authenticated there against the token digests); each phone
gets its answer only after that statement has committed. One round trip and one plan per
group instead of per update is what lets two cores take thousands of updates a second.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from responders.db.gateway import Database
from responders.errors import Unauthorized
from responders.registry.store import LocationBatch, write_locations
from responders.schemas.responders import LocationUpdate
from responders.security import hash_token

__all__ = ["LocationWriter"]


@dataclass
class _Group:
    updates: dict[bytes, LocationUpdate] = field(default_factory=dict)
    done: asyncio.Future[dict[bytes, int]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class LocationWriter:
    """One per process. `write()` returns the volunteer's id once the group committed."""

    def __init__(self, db: Database, window_s: float = 0.005, max_group: int = 500) -> None:
        self._db = db
        self._window_s = window_s
        self._max_group = max_group
        self._group: _Group | None = None

    async def write(self, token: str, update: LocationUpdate) -> int:
        digest = hash_token(token)
        group = self._join(digest, update)
        responder_id = (await asyncio.shield(group.done)).get(digest)
        if responder_id is None:
            raise Unauthorized("invalid or revoked token")
        return responder_id

    def _join(self, digest: bytes, update: LocationUpdate) -> _Group:
        if self._group is None:
            self._group = _Group()
            asyncio.get_running_loop().call_later(self._window_s, self._close, self._group)
        group = self._group
        # A later update from the same phone in the same group wins.
        group.updates[digest] = update
        if len(group.updates) >= self._max_group:
            self._close(group)
        return group

    def _close(self, group: _Group) -> None:
        """Sends `group` once: a group closed early when full leaves its timer armed, and
        that timer must not cut the next group's window short."""
        if self._group is not group:
            return
        self._group = None
        task = asyncio.ensure_future(self._flush(group))
        task.add_done_callback(_consume)

    async def _flush(self, group: _Group) -> None:
        try:
            group.done.set_result(await self._execute(group.updates))
        except Exception as exc:  # noqa: BLE001 - handed to every waiting request
            group.done.set_exception(exc)

    async def _execute(self, updates: dict[bytes, LocationUpdate]) -> dict[bytes, int]:
        batch = LocationBatch(
            hashes=list(updates),
            lats=[u.lat for u in updates.values()],
            lons=[u.lon for u in updates.values()],
            accuracies=[u.accuracy_m for u in updates.values()],
        )
        return await write_locations(self._db, batch)


def _consume(task: asyncio.Future[None]) -> None:
    with contextlib.suppress(asyncio.CancelledError):
        task.exception()
