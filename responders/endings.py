"""Why an incident ended: the reasons an operator picks when closing or cancelling it.

One vocabulary for the API (the request's allowed values), the timeline, the incident's
stored `end_reason`, the stand-down push and the volunteer's screen. A reason is a code; the
sentence is what a volunteer reads after "Stood down:". The operator's free-text note stays
with the operator: it may hold details about the patient, and a push passes through Google.

It imports nothing of the package: schemas, domain code and the pages all read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

__all__ = [
    "CANCEL_REASONS",
    "CLOSE_REASONS",
    "NOTE_REQUIRED",
    "CancelReason",
    "CloseReason",
    "reason_sentence",
]

CancelReason = Literal["duplicate", "hoax_or_mistake", "ems_on_scene", "other"]
CloseReason = Literal["ems_took_over", "patient_fine", "resolved_by_volunteers", "other"]

# code → the end of "Stood down: ..." (and the console's label, capitalised there).
CANCEL_REASONS: Mapping[str, str] = MappingProxyType(
    {
        "duplicate": "this was a duplicate of another report",
        "hoax_or_mistake": "the call was a mistake or a hoax",
        "ems_on_scene": "the ambulance is on scene",
        "other": "the incident was cancelled",
    }
)
CLOSE_REASONS: Mapping[str, str] = MappingProxyType(
    {
        "ems_took_over": "the ambulance crew has taken over",
        "patient_fine": "the patient is fine",
        "resolved_by_volunteers": "the volunteers on scene handled it",
        "other": "the incident is over",
    }
)
# "Other" says nothing by itself: the operator writes what happened.
NOTE_REQUIRED = "other"


def reason_sentence(reason: str | None) -> str | None:
    """The volunteer's sentence for a reason code, None for none (or an unknown one)."""
    if reason is None:
        return None
    return CANCEL_REASONS.get(reason) or CLOSE_REASONS.get(reason)
