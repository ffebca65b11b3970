"""Volunteer (responder) requests and responses."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field, field_validator

from responders.schemas.common import GeoPoint, LatLon, Strict, Window
from responders.schemas.contact import Email, Phone

__all__ = [
    "AvailabilityUpdate",
    "DeviceCreate",
    "DevicePublic",
    "LiveLocationPublic",
    "LocationUpdate",
    "PlaceIn",
    "PlacePublic",
    "QualificationIn",
    "QualificationKind",
    "ResponderCreate",
    "ResponderPublic",
    "ResponderRegistered",
    "ResponderUpdate",
]

QualificationKind = Literal["cpr_aed", "first_aid", "bhv", "nurse", "physician", "paramedic"]
PlaceKind = Literal["home", "work", "other"]
Platform = Literal["android", "ios", "web"]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class QualificationIn(Strict):
    kind: QualificationKind
    expires_on: dt.date

    @field_validator("expires_on")
    @classmethod
    def _still_valid(cls, value: dt.date) -> dt.date:
        # Dispatch never alerts on an expired qualification; accepting one would let the
        # person believe they can be alerted. Today in UTC is within a day of any region's.
        if value < dt.datetime.now(dt.UTC).date():
            raise ValueError(
                f"This qualification expired on {value.isoformat()}: you would not be "
                "alerted with it. Renew it and enter the new date."
            )
        return value


class PlaceIn(Strict):
    kind: PlaceKind
    label: Annotated[str | None, Field(max_length=200)] = None
    location: LatLon
    windows: Annotated[list[Window], Field(max_length=50)] = []


class DeviceCreate(Strict):
    fcm_token: Annotated[str, Field(min_length=1, max_length=4096)]
    platform: Platform


class ResponderCreate(Strict):
    name: Name
    phone: Phone
    email: Email
    qualifications: Annotated[list[QualificationIn], Field(min_length=1, max_length=10)]
    places: Annotated[list[PlaceIn], Field(max_length=10)] = []
    device: DeviceCreate | None = None


class ResponderUpdate(Strict):
    """Fields left out stay as they are; lists given replace the stored ones."""

    name: Name | None = None
    phone: Phone | None = None
    email: Email | None = None
    qualifications: Annotated[list[QualificationIn] | None, Field(max_length=10)] = None
    places: Annotated[list[PlaceIn] | None, Field(max_length=10)] = None


class LocationUpdate(LatLon):
    # Stored as `real`; a phone never claims better than a centimetre.
    accuracy_m: Annotated[float, Field(ge=0.01, le=10_000)]


class AvailabilityUpdate(Strict):
    """Pause (until a time, or indefinitely), resume, and optionally replace the places."""

    status: Literal["active", "paused"] | None = None
    paused_until: AwareDatetime | None = None
    places: Annotated[list[PlaceIn] | None, Field(max_length=10)] = None


class QualificationPublic(BaseModel):
    kind: QualificationKind
    expires_on: dt.date


class PlacePublic(BaseModel):
    id: int
    kind: PlaceKind
    label: str | None
    location: GeoPoint
    windows: list[Window]


class DevicePublic(BaseModel):
    id: int
    platform: Platform
    fcm_token: str
    created_at: dt.datetime


class LiveLocationPublic(BaseModel):
    location: GeoPoint
    accuracy_m: float
    updated_at: dt.datetime


class ResponderPublic(BaseModel):
    id: int
    name: str
    phone: str
    email: str
    status: Literal["active", "paused"]
    paused_until: dt.datetime | None
    qualifications: list[QualificationPublic]
    places: list[PlacePublic]
    devices: list[DevicePublic]
    live_location: LiveLocationPublic | None
    created_at: dt.datetime


class ResponderRegistered(BaseModel):
    responder: ResponderPublic
    token: Annotated[str, Field(description="bearer token for this device; shown only once")]
