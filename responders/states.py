"""The one home of the incident and alert states, their named sets and the alert actions.

Everything else derives from here: Python compares with these enums and sets, SQL gets the
sets as bound arrays or, where a statement must stay a constant (a prepared statement whose
plan reads a partial index), as a literal list made by `sql_list`; the schemas' OpenAPI
enums and the pages (`GET /states`) are served from them. The one copy that cannot follow
is a migration: `alerts_busy_idx`'s predicate is history, and a test pins it to `BUSY`, so
changing `BUSY` needs a new migration for that index.

It imports nothing of the package but the exception tree: schemas, domain code and the web
layer all read it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Literal

from responders.errors import IllegalTransition

__all__ = [
    "ALERT_ACTIONS",
    "ANSWERABLE",
    "BUSY",
    "COMMITTED",
    "ENDED",
    "EXPIRABLE",
    "INCIDENT_ENDINGS",
    "INCIDENT_FILTERS",
    "NEEDS_STAND_DOWN",
    "NO_LONGER_NEEDED",
    "OPEN",
    "SETTLED",
    "AlertAction",
    "AlertStatus",
    "IncidentFilter",
    "IncidentStatus",
    "Transition",
    "answer",
    "as_json",
    "sql_list",
]


class IncidentStatus(StrEnum):
    # Declaration order is the lifecycle's order, and the OpenAPI enum's.
    TRIAGE = "triage"
    ACTIVE = "active"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class AlertStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    ARRIVED = "arrived"
    FAILED = "failed"
    STOOD_DOWN = "stood_down"


_I = IncidentStatus
_A = AlertStatus

# --- incidents -------------------------------------------------------------------------
# Open: still wants (or may still want) volunteers; a volunteer alerted for it is busy.
OPEN = frozenset({_I.TRIAGE, _I.ACTIVE})
ENDED = frozenset({_I.CLOSED, _I.CANCELLED})
# ending → the states it may end from: only an active incident is "closed" (help came);
# a report still in triage can only be cancelled.
INCIDENT_ENDINGS: Mapping[IncidentStatus, frozenset[IncidentStatus]] = MappingProxyType(
    {_I.CLOSED: frozenset({_I.ACTIVE}), _I.CANCELLED: OPEN}
)
# The operator list's `?status=` filter: name → the states it shows.
IncidentFilter = Literal["open", "triage", "active", "ended", "closed", "cancelled", "all"]
INCIDENT_FILTERS: Mapping[IncidentFilter, frozenset[IncidentStatus]] = MappingProxyType(
    {
        "open": OPEN,
        "triage": frozenset({_I.TRIAGE}),
        "active": frozenset({_I.ACTIVE}),
        "ended": ENDED,
        "closed": frozenset({_I.CLOSED}),
        "cancelled": frozenset({_I.CANCELLED}),
        "all": frozenset(IncidentStatus),
    }
)

# --- alerts ----------------------------------------------------------------------------
# Not yet answered: the volunteer may still say yes or no.
_UNANSWERED = frozenset({_A.QUEUED, _A.SENT, _A.DELIVERED})
# Said yes: on the way or there.
COMMITTED = frozenset({_A.ACCEPTED, _A.ARRIVED})
# Busy: alerted and still in play, so not to be alerted for another open incident. Must
# equal the predicate of the partial index `alerts_busy_idx` (migration 0005; pinned by
# tests/dispatch/test_states.py), or the candidate query's busy probe cannot read it.
BUSY = _UNANSWERED | COMMITTED
# No answer before the alert's deadline.
EXPIRABLE = _UNANSWERED
# Closing or cancelling reaches everyone not yet answered or on the way (DESIGN.md §4); an
# arrival is a fact of the incident and stays `arrived`, a decline stays a decline.
NEEDS_STAND_DOWN = _UNANSWERED | {_A.EXPIRED, _A.ACCEPTED}
# "Enough have accepted" leaves those on their way alone.
NO_LONGER_NEEDED = _UNANSWERED | {_A.EXPIRED}
# A volunteer can still answer yes or no (a `failed` push may be answered from the app
# while help is still wanted: see `lifecycle._check_help_wanted`).
ANSWERABLE = _UNANSWERED | {_A.EXPIRED, _A.FAILED}
# Over for this volunteer: nothing more will happen to the alert on their side.
SETTLED = frozenset({_A.DECLINED, _A.EXPIRED, _A.FAILED, _A.STOOD_DOWN})


class AlertAction(StrEnum):
    """What a volunteer's app may do to their alert (`POST /alerts/{id}/...`)."""

    DELIVERED = "delivered"
    ACCEPT = "accept"
    DECLINE = "decline"
    ARRIVED = "arrived"


@dataclass(frozen=True, slots=True)
class Transition:
    """An alert action as data: from which states, to which, and when it is refused."""

    sources: frozenset[AlertStatus]
    target: AlertStatus
    # For the refusal: "cannot <verb> an alert that is declined".
    verb: str
    # Late or repeated receipts in these states change nothing (and are not an error).
    ignored: frozenset[AlertStatus] = frozenset()
    # Refused unless the incident is active (one cannot go to an ended incident).
    needs_active_incident: bool = False


# action → transition; repeating an action (already in its target) is harmless.
ALERT_ACTIONS: Mapping[AlertAction, Transition] = MappingProxyType(
    {
        AlertAction.DELIVERED: Transition(
            frozenset({_A.QUEUED, _A.SENT}),
            _A.DELIVERED,
            "confirm delivery of",
            ignored=frozenset({_A.ACCEPTED, _A.DECLINED, _A.ARRIVED, _A.EXPIRED}),
        ),
        AlertAction.ACCEPT: Transition(
            ANSWERABLE, _A.ACCEPTED, "accept", needs_active_incident=True
        ),
        AlertAction.DECLINE: Transition(ANSWERABLE | {_A.ACCEPTED}, _A.DECLINED, "decline"),
        AlertAction.ARRIVED: Transition(
            frozenset({_A.ACCEPTED}), _A.ARRIVED, "report arrival on", needs_active_incident=True
        ),
    }
)


def answer(action: AlertAction, alert: str, incident: str) -> AlertStatus | None:
    """The alert's next state after a volunteer's `action`, or None when it changes nothing
    (repeated, or a receipt arriving after the answer). Raises `IllegalTransition` when the
    alert's or the incident's state does not allow it. Whether help is still wanted for a
    `failed` alert needs the database: the caller checks that (`lifecycle`)."""
    rule = ALERT_ACTIONS[action]
    if alert == rule.target or alert in rule.ignored:
        return None
    if rule.needs_active_incident and incident != _I.ACTIVE:
        raise IllegalTransition(f"the incident is {incident}", state=alert, incident_state=incident)
    if alert not in rule.sources:
        raise IllegalTransition(f"cannot {rule.verb} an alert that is {alert}", state=alert)
    return rule.target


def sql_list(states: Iterable[StrEnum]) -> str:
    """`'a', 'b'` for an SQL `IN (...)` that must stay a constant; in lifecycle order, so
    the text is stable. The values are this module's own names, never user input."""
    return ", ".join(f"'{name}'" for name in _names(states))


def _names(states: Iterable[StrEnum]) -> list[str]:
    """The states' names in lifecycle (declaration) order."""
    order = [*IncidentStatus, *AlertStatus]
    return [s.value for s in sorted(set(states), key=order.index)]


def as_json() -> dict[str, dict[str, list[str]]]:
    """The states and the sets the pages decide by (`GET /states`)."""
    return {
        "incident": {
            "all": _names(IncidentStatus),
            "open": _names(OPEN),
            "ended": _names(ENDED),
        },
        "alert": {
            "all": _names(AlertStatus),
            "busy": _names(BUSY),
            "committed": _names(COMMITTED),
            "answerable": _names(ANSWERABLE),
            "settled": _names(SETTLED),
        },
    }
