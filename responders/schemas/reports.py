"""What a citizen's status link shows: the report's progress in the reporter's words, and
the nearest AED usable now with its walking route. Counts only: never a volunteer's name,
phone number or position."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from responders.schemas.common import GeoPoint
from responders.schemas.incidents import IncidentKind
from responders.states import IncidentStatus

__all__ = ["CitizenAed", "NearestAed", "ReportPhase", "ReportStatus"]

# received: waiting for a dispatcher · seen: a dispatcher is looking · help: confirmed,
# volunteers alerted · closed / cancelled: over.
ReportPhase = Literal["received", "seen", "help", "closed", "cancelled"]


class ReportStatus(BaseModel):
    id: int = Field(description="the report's number, to quote when the dispatch centre calls")
    phase: ReportPhase
    status: IncidentStatus
    kind: IncidentKind
    headline: str = Field(description="what happens now, one sentence for the reporter")
    detail: str = Field(description="what it means for the reporter, or what to do")
    alerted: int = Field(description="volunteers alerted (their push went out or is going)")
    coming: int = Field(description="volunteers who accepted and are on their way")
    arrived: int = Field(description="volunteers who said they have arrived")
    ended: bool = Field(description="nothing more will change: the page may stop asking")
    location: GeoPoint
    reported_at: dt.datetime
    seen_at: dt.datetime | None


class NearestAed(BaseModel):
    location: GeoPoint
    address: str | None
    description: str | None
    access: Literal["public", "restricted"]


class CitizenAed(BaseModel):
    """The nearest AED in service and open now, by walking time from the report's place."""

    aed: NearestAed | None
    walk_seconds: float | None = Field(description="one way, from the person to the AED")
    distance_m: float | None
    route: dict[str, Any] | None = Field(
        description="GeoJSON Feature: the walking route from the person to the AED"
    )
    message: str = Field(description="a sentence for the reporter")
