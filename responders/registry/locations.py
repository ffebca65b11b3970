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

from psycopg_pool import AsyncConnectionPool

from responders.db.engine import fetch_all
from responders.errors import Unauthorized
from responders.schemas.responders import LocationUpdate
from responders.security import hash_token

__all__ = ["LocationWriter"]

# Two devices of one volunteer in one group: keep one (DISTINCT ON) so the upsert never
# touches a row twice; the digests that authenticated come back either way.
_GROUP_UPSERT = """
    WITH v AS (
        SELECT * FROM unnest(%(hashes)s::bytea[], %(lats)s::float8[], %(lons)s::float8[],
                             %(accuracies)s::real[]) AS v(token_hash, lat, lon, accuracy)
    ), auth AS (
        SELECT t.responder_id, v.* FROM v
        JOIN responder_tokens t ON t.token_hash = v.token_hash AND t.revoked_at IS NULL
    ), written AS (
        INSERT INTO live_locations (responder_id, location, accuracy_m, updated_at)
        SELECT DISTINCT ON (responder_id) responder_id,
               ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography, accuracy, now()
        FROM auth ORDER BY responder_id
        ON CONFLICT (responder_id) DO UPDATE
        SET location = EXCLUDED.location, accuracy_m = EXCLUDED.accuracy_m,
            updated_at = EXCLUDED.updated_at
    )
    SELECT token_hash, responder_id FROM auth
"""


@dataclass
class _Group:
    updates: dict[bytes, LocationUpdate] = field(default_factory=dict)
    done: asyncio.Future[dict[bytes, int]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class LocationWriter:
    """One per process. `write()` returns the volunteer's id once the group committed."""

    def __init__(
        self, pool: AsyncConnectionPool, window_s: float = 0.005, max_group: int = 500
    ) -> None:
        self._pool = pool
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
        params = {
            "hashes": list(updates),
            "lats": [u.lat for u in updates.values()],
            "lons": [u.lon for u in updates.values()],
            "accuracies": [u.accuracy_m for u in updates.values()],
        }
        # The upsert is idempotent, so `fetch_all` may retry it after a database restart.
        rows = await fetch_all(self._pool, _GROUP_UPSERT, params)
        return {bytes(row[0]): int(row[1]) for row in rows}


def _consume(task: asyncio.Future[None]) -> None:
    with contextlib.suppress(asyncio.CancelledError):
        task.exception()
