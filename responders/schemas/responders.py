"""Volunteer (responder) requests and responses."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Discriminator, Field, Tag, field_validator

from responders.schemas.common import GeoPoint, LatLon, Strict, Window
from responders.schemas.contact import Email, Phone

__all__ = [
    "AvailabilityUpdate",
    "DeviceCreate",
    "DevicePublic",
    "FcmDeviceCreate",
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
    "WebPushDeviceCreate",
    "WebPushKeysIn",
    "WebPushSubscription",
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


class FcmDeviceCreate(Strict):
    """A native app's FCM registration token (`kind` may be left out: FCM)."""

    kind: Literal["fcm"] = "fcm"
    fcm_token: Annotated[str, Field(min_length=1, max_length=4096)]
    platform: Platform


class WebPushKeysIn(Strict):
    # Sizes are checked with the endpoint (`push.endpoints.check_subscription`).
    p256dh: Annotated[str, Field(min_length=1, max_length=200)]
    auth: Annotated[str, Field(min_length=1, max_length=100)]


class WebPushSubscription(Strict):
    """Exactly what the browser's `PushSubscription.toJSON()` gives."""

    endpoint: Annotated[str, Field(min_length=1, max_length=2048)]
    expiration_time: float | None = Field(default=None, alias="expirationTime")
    keys: WebPushKeysIn


class WebPushDeviceCreate(Strict):
    """The installed web app's push subscription. Whether we may send to its endpoint is
    decided where the setting allowing loopback is known (`registry.responders`)."""

    kind: Literal["webpush"]
    subscription: WebPushSubscription


def _device_kind(value: object) -> str:
    kind = value.get("kind", "fcm") if isinstance(value, dict) else getattr(value, "kind", "fcm")
    return kind if kind in ("fcm", "webpush") else "fcm"


# FCM when `kind` is absent: every client written before Web Push keeps working.
DeviceCreate = Annotated[
    Annotated[FcmDeviceCreate, Tag("fcm")] | Annotated[WebPushDeviceCreate, Tag("webpush")],
    Discriminator(_device_kind),
]


class ResponderCreate(Strict):
    name: Name
    phone: Phone
    email: Email
    qualifications: Annotated[list[QualificationIn], Field(min_length=1, max_length=10)]
    places: Annotated[list[PlaceIn], Field(max_length=10)] = []
    device: FcmDeviceCreate | None = None


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
    """A Web Push device shows only its endpoint's host: the full URL is a credential."""

    id: int
    kind: Literal["fcm", "webpush"]
    platform: Platform
    fcm_token: str | None
    endpoint_host: str | None
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
