"""Incident history: ended incidents stay findable, by when they were reported.

"Today" and "this week" are the region's (`EHBO_REGION_TIMEZONE`), not the server's UTC: a
dispatcher in Helsinki at 01:00 means the day that began an hour ago. A week starts on
Monday. Explicit dates are whole days in that time zone too (`until` included).
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from responders.errors import InvalidInput

__all__ = ["Window", "window"]

Window = tuple[dt.datetime | None, dt.datetime | None]

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SINCE_HELP = "Give today, week, or a date like 2030-01-31."


def _midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """The instant the day begins in `zone` (a day starting in a DST gap still begins)."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone)


def _since_day(since: str, today: dt.date) -> dt.date:
    if since == "today":
        return today
    if since == "week":
        return today - dt.timedelta(days=today.weekday())
    if not _DATE.match(since):
        raise InvalidInput(_SINCE_HELP, field="query.since")
    try:
        return dt.date.fromisoformat(since)
    except ValueError:
        raise InvalidInput(_SINCE_HELP, field="query.since") from None


def window(since: str | None, until: dt.date | None, timezone: str, now: dt.datetime) -> Window:
    """[start, end) of the history asked for: `since` is `today`, `week` (since Monday) or
    a date; `until` the last day included. Either may be missing (open-ended)."""
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    start = None if since is None else _midnight(_since_day(since, today), zone)
    end = None if until is None else _midnight(until + dt.timedelta(days=1), zone)
    if start is not None and end is not None and end <= start:
        raise InvalidInput("until must not be before since.", field="query.until")
    return start, end
