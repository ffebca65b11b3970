"""Abuse limits: token buckets per client and per caller, flood flags per area, and
bulkheads for anonymous traffic, so a flood cannot push operator traffic out.

A citizen report is refused only for what its own client sent: a busy area flags its
reports as a suspected flood (operators triage them together) instead of refusing them, and
reports wait for their own slots, which registrations can never take."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Hashable

from responders.errors import RateLimited
from responders.floods import FloodArea
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
        self._routes = {
            "volunteer": TokenBuckets(settings.routes_per_volunteer_per_minute, 60, keys),
            "operator": TokenBuckets(settings.routes_per_operator_per_minute, 60, keys),
        }
        self._reverse_geocodes = TokenBuckets(
            settings.reverse_geocodes_per_client_per_minute, 60, keys
        )
        # Two bulkheads, not one: ten registrations in flight must not refuse a report.
        self._report_slots = asyncio.Semaphore(settings.report_concurrency)
        self._registration_slots = asyncio.Semaphore(settings.registration_concurrency)

    def citizen_report(self, client: str, lat: float, lon: float) -> FloodArea | None:
        """Refuses only this client's own excess. Returns the report's area when more
        reports than its limit reached that area in the last minute (from anyone): the
        report is kept and flagged as a suspected flood, never refused for it."""
        self._check(self._reports, client, "too many reports from this client")
        if not self.enabled:
            return None
        area = FloodArea.of(lat, lon, self._cell)
        return area if self._areas.take(area.key) else None

    def registration(self, client: str) -> None:
        self._check(self._registrations, client, "too many registrations from this client")

    def location_update(self, token: str) -> None:
        self._check(self._locations, token, "location updates are too frequent")

    def email_change(self, responder_id: int) -> None:
        self._check(self._emails, responder_id, "too many e-mail address changes; try tomorrow")

    def route(self, kind: str, caller: int) -> None:
        """GET /route, per operator or volunteer (`kind`) and id."""
        self._check(
            self._routes[kind],
            (kind, caller),
            "too many route requests from this caller; routes already drawn stay valid",
        )

    def reverse_geocode(self, client: str) -> None:
        """GET /geocode/reverse without a token, per client address."""
        self._check(self._reverse_geocodes, client, "too many address lookups from this client")

    def _check(self, buckets: TokenBuckets, key: Hashable, detail: str) -> None:
        if not self.enabled:
            return
        wait = buckets.take(key)
        if wait:
            raise RateLimited(detail, retry_after_s=max(1, math.ceil(wait)))

    @contextlib.asynccontextmanager
    async def report_slot(self) -> AsyncIterator[None]:
        """Waits for a slot of the reports' own: a citizen report is never refused because
        others are reporting (each client's own rate is bounded before this)."""
        async with self._report_slots:
            yield

    @contextlib.asynccontextmanager
    async def registration_slot(self) -> AsyncIterator[None]:
        """Refuse at once when full: waiting would only hold the flood's sockets open."""
        if self.enabled and self._registration_slots.locked():
            raise RateLimited("the service is busy; try again", retry_after_s=1)
        async with self._registration_slots:
            yield
