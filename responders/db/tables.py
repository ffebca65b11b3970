"""ORM tables (SQLAlchemy 2 declarative). API schemas live apart, in `responders.schemas`.

The DDL itself is owned by the Alembic migrations; these classes mirror it for queries.
Spatial columns are `geography(Point, 4326)` with GiST indexes (created in the migrations).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from geoalchemy2 import Geography
from sqlalchemy import REAL, BigInteger, Date, FetchedValue, ForeignKey, LargeBinary, Text
from sqlalchemy.dialects.postgresql import INT4MULTIRANGE, JSONB, TIMESTAMP
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = [
    "Aed",
    "Alert",
    "Base",
    "Device",
    "Incident",
    "IncidentEvent",
    "LiveLocation",
    "Operator",
    "OutboxItem",
    "Place",
    "Qualification",
    "Responder",
    "ResponderToken",
]

TZ = TIMESTAMP(timezone=True)


def _db_default() -> Any:
    """A column the database fills (identity, `DEFAULT now()`)."""
    return mapped_column(server_default=FetchedValue())


def _point() -> Geography:
    return Geography(geometry_type="POINT", srid=4326, spatial_index=False)


class Base(DeclarativeBase):
    type_annotation_map = {dt.datetime: TZ, dict[str, Any]: JSONB, list[Any]: JSONB}


class Operator(Base):
    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    created_at: Mapped[dt.datetime] = _db_default()
    revoked_at: Mapped[dt.datetime | None]


class Responder(Base):
    __tablename__ = "responders"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    phone: Mapped[str] = mapped_column(Text)
    email: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    paused_until: Mapped[dt.datetime | None]
    # Alerts before this time do not count toward the daily cap (the demo's fresh day).
    alert_cap_since: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = _db_default()
    updated_at: Mapped[dt.datetime] = _db_default()

    qualifications: Mapped[list[Qualification]] = relationship(
        cascade="all, delete-orphan",
        passive_deletes=True,
        lazy="selectin",
        order_by="Qualification.kind",
    )
    places: Mapped[list[Place]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin", order_by="Place.id"
    )
    devices: Mapped[list[Device]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin", order_by="Device.id"
    )
    live_location: Mapped[LiveLocation | None] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin"
    )


class ResponderToken(Base):
    """One bearer credential per registered device of a volunteer, stored hashed."""

    __tablename__ = "responder_tokens"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    responder_id: Mapped[int] = mapped_column(ForeignKey("responders.id", ondelete="CASCADE"))
    token_hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    created_at: Mapped[dt.datetime] = _db_default()
    revoked_at: Mapped[dt.datetime | None]


class Qualification(Base):
    __tablename__ = "qualifications"

    responder_id: Mapped[int] = mapped_column(
        ForeignKey("responders.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    expires_on: Mapped[dt.date] = mapped_column(Date)


class Place(Base):
    """A registered place (home, work) with weekly availability windows."""

    __tablename__ = "places"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    responder_id: Mapped[int] = mapped_column(ForeignKey("responders.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(Text)
    label: Mapped[str | None] = mapped_column(Text)
    location: Mapped[Any] = mapped_column(_point())
    # What the volunteer said, for display; `available` is derived from it for queries.
    windows: Mapped[list[Any]]
    available: Mapped[Any] = mapped_column(INT4MULTIRANGE)


class LiveLocation(Base):
    """The latest point only: overwritten on every update, never a history."""

    __tablename__ = "live_locations"

    responder_id: Mapped[int] = mapped_column(
        ForeignKey("responders.id", ondelete="CASCADE"), primary_key=True
    )
    location: Mapped[Any] = mapped_column(_point())
    accuracy_m: Mapped[float] = mapped_column(REAL)
    updated_at: Mapped[dt.datetime] = _db_default()


class Device(Base):
    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    responder_id: Mapped[int] = mapped_column(ForeignKey("responders.id", ondelete="CASCADE"))
    fcm_token: Mapped[str] = mapped_column(Text, unique=True)
    platform: Mapped[str] = mapped_column(Text)
    # The app sign-in that registered it: signing out there removes the device.
    token_id: Mapped[int | None] = mapped_column(
        ForeignKey("responder_tokens.id", ondelete="CASCADE")
    )
    created_at: Mapped[dt.datetime] = _db_default()


class Aed(Base):
    __tablename__ = "aeds"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    location: Mapped[Any] = mapped_column(_point())
    address: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    access: Mapped[str] = mapped_column(Text)
    opening_hours: Mapped[list[Any]]
    open_minutes: Mapped[Any] = mapped_column(INT4MULTIRANGE)
    cabinet_code: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    external_ref: Mapped[str | None] = mapped_column(Text, unique=True)
    created_at: Mapped[dt.datetime] = _db_default()
    updated_at: Mapped[dt.datetime] = _db_default()


class Incident(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    location: Mapped[Any] = mapped_column(_point())
    address: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    callback_phone: Mapped[str | None] = mapped_column(Text)
    reported_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    wave: Mapped[int] = mapped_column(default=0)
    radius_m: Mapped[float] = mapped_column(REAL, default=0.0)
    next_wave_at: Mapped[dt.datetime | None]
    replacements_due: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = _db_default()
    updated_at: Mapped[dt.datetime] = _db_default()
    ended_at: Mapped[dt.datetime | None]
    # A citizen report's area, when it came in a suspected flood (see responders.floods).
    flood_group: Mapped[str | None] = mapped_column(Text)


class Alert(Base):
    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    responder_id: Mapped[int | None] = mapped_column(
        ForeignKey("responders.id", ondelete="SET NULL")
    )
    wave: Mapped[int]
    role: Mapped[str] = mapped_column(Text)
    aed_id: Mapped[int | None] = mapped_column(ForeignKey("aeds.id", ondelete="SET NULL"))
    walk_seconds: Mapped[float] = mapped_column(REAL)
    straight_m: Mapped[float] = mapped_column(REAL)
    origin: Mapped[Any | None] = mapped_column(_point())
    route: Mapped[dict[str, Any] | None]
    status: Mapped[str] = mapped_column(Text, default="queued")
    stand_down_reason: Mapped[str | None] = mapped_column(Text)
    fcm_message_id: Mapped[str | None] = mapped_column(Text)
    push_error: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[dt.datetime]
    created_at: Mapped[dt.datetime] = _db_default()
    updated_at: Mapped[dt.datetime] = _db_default()


class IncidentEvent(Base):
    """One line of an incident's timeline: the audit trail of every transition."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = _db_default()


class OutboxItem(Base):
    """A push to deliver, written in the same transaction as its alert."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    available_at: Mapped[dt.datetime] = _db_default()
    expires_at: Mapped[dt.datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = _db_default()
    # Set while a worker sends the row (see responders.delivery.outbox).
    leased_until: Mapped[dt.datetime | None]
    unconfirmed: Mapped[int] = mapped_column(default=0)
