"""Weekly windows ↔ minute-of-week ranges, in the region's time zone.

A place or an AED stores what a person typed (`windows`) and, derived from it, the set of
minutes of the week it covers as an `int4multirange`, so "available now" is one `@>` in SQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from psycopg.types.multirange import Multirange
from psycopg.types.range import Range

from responders.schemas.common import Window

__all__ = ["MINUTES_PER_WEEK", "minute_of_week", "window_ranges", "windows_to_multirange"]

MINUTES_PER_WEEK = 7 * 24 * 60
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def window_ranges(window: Window) -> list[tuple[int, int]]:
    """Half-open minute-of-week ranges; an overnight window spills into the next day."""
    start, end = _minutes(window.start), _minutes(window.end)
    length = end - start if end > start else 24 * 60 - start + end
    ranges = []
    for day in window.days:
        begin = _DAYS.index(day) * 24 * 60 + start
        ranges.extend(_wrap(begin, begin + length))
    return ranges


def _wrap(begin: int, end: int) -> list[tuple[int, int]]:
    # Sunday night runs into Monday morning of the next week.
    if end <= MINUTES_PER_WEEK:
        return [(begin, end)]
    return [(begin, MINUTES_PER_WEEK), (0, end - MINUTES_PER_WEEK)]


def windows_to_multirange(windows: Iterable[Window]) -> Multirange[int]:
    merged: list[list[int]] = []
    for begin, end in sorted(r for w in windows for r in window_ranges(w)):
        if merged and begin <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([begin, end])
    return Multirange(Range(begin, end, bounds="[)") for begin, end in merged)


def minute_of_week(when: dt.datetime, timezone: str) -> int:
    local = when.astimezone(ZoneInfo(timezone))
    return local.weekday() * 24 * 60 + local.hour * 60 + local.minute
