"""Abuse limits: token buckets per client, per area and per volunteer, and a bulkhead for
anonymous traffic, so a flood of citizen reports cannot push operator traffic out."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Hashable

from responders.errors import RateLimited
from responders.settings import LimitSettings

__all__ = ["Limits", "TokenBuckets"]


class TokenBuckets:
    """`rate` events per `per_s` seconds per key, bursting up to `rate`; LRU-bounded."""

    def __init__(self, rate: float, per_s: float, max_keys: int) -> None:
        self._capacity = max(1.0, rate)
        self._refill = rate / per_s
        self._max_keys = max_keys
        self._buckets: OrderedDict[Hashable, tuple[float, float]] = OrderedDict()

    def take(self, key: Hashable, now: float | None = None) -> float:
        """0 when allowed, else the seconds until the next event would be."""
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.pop(key, (self._capacity, now))
        tokens = min(self._capacity, tokens + (now - last) * self._refill)
        allowed = tokens >= 1
        self._buckets[key] = (tokens - 1 if allowed else tokens, now)
        if len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
        return 0.0 if allowed else (1 - tokens) / self._refill


class Limits:
    def __init__(self, settings: LimitSettings) -> None:
        self.enabled = settings.enabled
        self._cell = settings.area_cell_deg
        keys = settings.max_tracked_keys
        self._reports = TokenBuckets(settings.reports_per_client_per_minute, 60, keys)
        self._areas = TokenBuckets(settings.reports_per_area_per_minute, 60, keys)
        self._registrations = TokenBuckets(settings.registrations_per_client_per_hour, 3600, keys)
        self._locations = TokenBuckets(settings.location_updates_per_volunteer_per_minute, 60, keys)
        self._emails = TokenBuckets(settings.email_changes_per_volunteer_per_day, 86_400, keys)
        self._anonymous = asyncio.Semaphore(settings.anonymous_concurrency)

    def citizen_report(self, client: str, lat: float, lon: float) -> None:
        area = (math.floor(lat / self._cell), math.floor(lon / self._cell))
        self._check(self._reports, client, "too many reports from this client")
        self._check(self._areas, area, "too many reports for this area right now")

    def registration(self, client: str) -> None:
        self._check(self._registrations, client, "too many registrations from this client")

    def location_update(self, token: str) -> None:
        self._check(self._locations, token, "location updates are too frequent")

    def email_change(self, responder_id: int) -> None:
        self._check(self._emails, responder_id, "too many e-mail address changes; try tomorrow")

    def _check(self, buckets: TokenBuckets, key: Hashable, detail: str) -> None:
        if not self.enabled:
            return
        wait = buckets.take(key)
        if wait:
            raise RateLimited(detail, retry_after_s=max(1, math.ceil(wait)))

    @contextlib.asynccontextmanager
    async def anonymous(self) -> AsyncIterator[None]:
        """Refuse at once when full: waiting would only hold the flood's sockets open."""
        if self.enabled and self._anonymous.locked():
            raise RateLimited("the service is busy; try again", retry_after_s=1)
        async with self._anonymous:
            yield
