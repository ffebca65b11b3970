"""A citizen's status link: a random token only the reporter holds (no account), stored
as its SHA-256 digest, and what the report's state means, in the reporter's words.

The token travels in the page URL's fragment (`/report/status#<token>`), which browsers
never send to a server, and reaches the API in a header: no access log, proxy log or
referrer ever holds it."""

from __future__ import annotations

from responders.db.gateway import Database, Reader
from responders.errors import NotFound
from responders.reports import store
from responders.reports.store import ReportRow
from responders.schemas.common import GeoPoint
from responders.schemas.reports import ReportPhase, ReportStatus
from responders.security import hash_token, new_token
from responders.states import IncidentStatus

__all__ = [
    "RECEIVED",
    "UNKNOWN_LINK",
    "describe",
    "mark_seen",
    "new_status_token",
    "report_status",
    "status_url",
]

RECEIVED = "Your report reached the dispatch centre. Call 112 as well if you have not."
UNKNOWN_LINK = (
    "This status link does not match any report: check that the whole link was copied. "
    "If someone needs help, call 112."
)


def status_url(token: str) -> str:
    return f"/report/status#{token}"


def new_status_token() -> tuple[str, bytes]:
    """A fresh status token for a report and the digest stored with it (only that stays)."""
    token = new_token("rp")
    return token, hash_token(token)


async def report_status(reader: Reader, token: str) -> ReportStatus:
    row = await store.report_by_token(reader, hash_token(token))
    if row is None:
        raise NotFound(UNKNOWN_LINK)
    return describe(row)


async def mark_seen(db: Database, incident_id: int) -> None:
    """An operator opened the incident: a report in triage is now being looked at (once)."""
    await store.mark_seen(db, incident_id)


def _phase(row: ReportRow) -> ReportPhase:
    status = IncidentStatus(row.status)
    if status == IncidentStatus.TRIAGE:
        return "seen" if row.seen_at is not None else "received"
    if status == IncidentStatus.ACTIVE:
        return "help"
    return "closed" if status == IncidentStatus.CLOSED else "cancelled"


def _volunteers(n: int) -> str:
    return f"{n} volunteer{'' if n == 1 else 's'}"


def _help(row: ReportRow) -> tuple[str, str]:
    if row.alerted == 0:
        return (
            "The dispatch centre confirmed your report.",
            "No volunteer nearby is free yet; we keep looking. Stay with the person and "
            "follow the advice of 112.",
        )
    counts = f"{_volunteers(row.alerted)} alerted, {row.coming} coming"
    if row.arrived:
        counts += f", {row.arrived} arrived"
    return f"Help is on the way: {counts}.", _HELP_DETAIL


_HELP_DETAIL = (
    "Volunteers trained in first aid are coming on foot. Keep helping the person until "
    "they take over; let them through when they arrive."
)

_WORDS: dict[ReportPhase, tuple[str, str]] = {
    "received": (
        "Received: waiting for a dispatcher.",
        "A dispatcher will check your report and send volunteers nearby if they can help. "
        "They may call you back.",
    ),
    "seen": (
        "A dispatcher is looking at your report.",
        "They decide now whether to send volunteers nearby. They may call you back.",
    ),
    "closed": (
        "The incident is closed.",
        "Thank you for reporting. If the person needs help again, call 112.",
    ),
    "cancelled": (
        "The incident is closed.",
        "The dispatch centre ended this report. If the person still needs help, call 112.",
    ),
}


def describe(row: ReportRow) -> ReportStatus:
    """The report as its reporter may see it: a phase, two sentences and counts."""
    phase = _phase(row)
    headline, detail = _help(row) if phase == "help" else _WORDS[phase]
    return ReportStatus(
        id=row.id,
        phase=phase,
        status=IncidentStatus(row.status),
        kind=row.kind,
        headline=headline,
        detail=detail,
        alerted=row.alerted,
        coming=row.coming,
        arrived=row.arrived,
        ended=phase in ("closed", "cancelled"),
        location=GeoPoint(coordinates=(row.lon, row.lat)),
        reported_at=row.created_at,
        seen_at=row.seen_at,
    )
