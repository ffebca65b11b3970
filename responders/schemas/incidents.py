"""Incidents, citizen reports, alerts and the timeline."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from responders.endings import NOTE_REQUIRED, CancelReason, CloseReason
from responders.schemas.common import GeoPoint, LatLon, Strict
from responders.schemas.contact import Phone
from responders.states import AlertStatus, IncidentStatus

__all__ = [
    "AlertAed",
    "AlertAnswered",
    "AlertIncident",
    "AlertOperatorView",
    "AlertPublic",
    "AlertStatus",
    "DuplicateHint",
    "EventPublic",
    "IncidentCancel",
    "IncidentClose",
    "IncidentCorrection",
    "IncidentCreate",
    "IncidentDetail",
    "IncidentKind",
    "IncidentPublic",
    "ReportCreate",
    "ReportReceived",
]

IncidentKind = Literal["cardiac_arrest", "unconscious", "breathing", "bleeding", "other"]
Role = Literal["direct", "via_aed"]
Notes = Annotated[str | None, Field(max_length=2000)]


class IncidentCreate(Strict):
    kind: IncidentKind
    location: LatLon
    address: Annotated[str | None, Field(max_length=300)] = None
    notes: Notes = None
    # Off the walking network (water, ice, an island) an incident is refused until the
    # operator confirms it; volunteers then walk to the nearest walkable point.
    confirm_off_network: bool = False


class _Ending(Strict):
    """Why an incident ends (`responders.endings`), with an optional note; "other" needs
    the note, since it says nothing by itself."""

    note: Annotated[str | None, Field(max_length=500, validate_default=True)] = None

    @field_validator("note", mode="after")
    @classmethod
    def _note_for_other(cls, value: str | None, info: ValidationInfo) -> str | None:
        value = value or None  # blank is no note
        if info.data.get("reason") == NOTE_REQUIRED and value is None:
            raise ValueError('Write what happened: the reason "other" needs a note.')
        return value


# (Comments, not docstrings: a docstring would become the OpenAPI schema's description.)
# Cancelling: why the incident needs nobody (anything may be cancelled while open).
class IncidentCancel(_Ending):
    reason: CancelReason


# Closing an active incident: how it ended.
class IncidentClose(_Ending):
    reason: CloseReason


class IncidentCorrection(Strict):
    """An operator's correction of an open incident: any of these; the ones sent are set
    (an empty address or notes clears it)."""

    location: LatLon | None = None
    address: Annotated[str | None, Field(max_length=300)] = None
    notes: Notes = None
    # As for a new incident: a pin moved off the walking network needs the operator's word.
    confirm_off_network: bool = False


class ReportCreate(Strict):
    """A citizen's report: where, what, and a number to call back."""

    kind: IncidentKind
    location: LatLon
    callback_phone: Phone | None = None
    notes: Notes = None


class EventPublic(BaseModel):
    id: int
    kind: str
    alert_id: int | None
    detail: dict[str, Any]
    created_at: dt.datetime


class AlertOperatorView(BaseModel):
    id: int
    responder_id: int | None
    responder_name: str | None
    wave: int
    role: Role
    aed_id: int | None
    walk_seconds: float
    straight_m: float
    status: AlertStatus
    stand_down_reason: str | None
    fcm_message_id: str | None
    push_error: str | None
    origin: GeoPoint | None
    route: dict[str, Any] | None
    expires_at: dt.datetime
    created_at: dt.datetime
    updated_at: dt.datetime
    # At a glance (issue 14): the ETA counts from the acceptance; the phone is there only
    # for a volunteer on the way or on scene while the incident is open; the live position
    # only for one on the way, when it is newer than their acceptance.
    accepted_at: dt.datetime | None = None
    phone: str | None = None
    live: GeoPoint | None = None
    live_at: dt.datetime | None = None


class DuplicateHint(BaseModel):
    """Another citizen report, or an open incident, near a report in place and time."""

    id: int
    source: Literal["dispatch", "citizen"]
    status: IncidentStatus
    distance_m: float
    created_at: dt.datetime


class IncidentPublic(BaseModel):
    id: int
    kind: IncidentKind
    location: GeoPoint
    address: str | None
    notes: str | None
    source: Literal["dispatch", "citizen"]
    status: IncidentStatus
    callback_phone: str | None
    wave: int
    radius_m: float
    next_wave_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    ended_at: dt.datetime | None
    # A citizen report that came with many others into one area in a minute: triage them
    # together. The group is the area's key (its south-west corner, "lat,lon").
    flood_suspected: bool = False
    flood_group: str | None = None
    # A report in triage: the other reports and open incidents within the dispatch
    # settings' duplicate radius and window of it (only in the list of incidents).
    duplicate_hints: list[DuplicateHint] = Field(default_factory=list)

    # Why it was closed or cancelled (`responders.endings`), and the operator's note.
    end_reason: str | None = None
    end_note: str | None = None


class IncidentDetail(IncidentPublic):
    alerts: list[AlertOperatorView]
    aeds: list[dict[str, Any]]
    timeline: list[EventPublic]


class AlertAed(BaseModel):
    id: int
    location: GeoPoint
    address: str | None
    description: str | None
    cabinet_code: str | None = Field(
        description="only in the alert of a volunteer sent to fetch it"
    )


class AlertIncident(BaseModel):
    id: int
    kind: IncidentKind
    status: IncidentStatus
    location: GeoPoint | None = Field(description="hidden until accepted where configured")
    address: str | None
    notes: str | None
    end_reason: str | None = Field(default=None, description="why it was closed or cancelled")
    end_reason_text: str | None = Field(
        default=None, description='the reason as the end of "Stood down: ..."'
    )


class AlertPublic(BaseModel):
    """What a volunteer sees of their own alert."""

    id: int
    status: AlertStatus
    role: Role
    wave: int
    walk_seconds: float
    stand_down_reason: str | None
    expires_at: dt.datetime
    created_at: dt.datetime
    incident: AlertIncident
    aed: AlertAed | None
    route: dict[str, Any] | None


# (Comments, not docstrings: a docstring would become the OpenAPI schema's description.)
# A citizen's report, stored in triage: what the reporter is told.
class ReportReceived(BaseModel):
    id: int
    status: Literal["triage"]
    message: str
    # Shown once; only its digest is stored. The page puts it in the URL's fragment (never
    # sent to a server) and sends it in a header: `GET /reports/status`.
    status_token: str
    status_url: str


# A volunteer's answer to their alert, taken: the alert's status now.
class AlertAnswered(BaseModel):
    id: int
    status: AlertStatus
