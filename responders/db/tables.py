"""The schema as SQLAlchemy metadata (declarative classes). API schemas live apart.

The DDL is owned by the Alembic migrations; this module mirrors it, column for column and
index for index, and `tests/db/test_schema.py` fails the suite when the two differ (a model
change without a migration, or a migration without its model). CHECK constraints and
triggers live in the migrations only: Alembic does not compare them.
Spatial columns are `geography(Point, 4326)` with GiST indexes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from geoalchemy2 import Geography
from sqlalchemy import (
    REAL,
    BigInteger,
    Date,
    ForeignKey,
    Identity,
    Index,
    LargeBinary,
    Text,
    UniqueConstraint,
    desc,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, INT4MULTIRANGE, JSONB, TIMESTAMP
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = [
    "Aed",
    "Alert",
    "Base",
    "Device",
    "GeocodeEntry",
    "GeocodeName",
    "GeocodeSource",
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


def _id() -> Any:
    """The key: `bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY`."""
    return mapped_column(BigInteger, Identity(always=True), primary_key=True)


def _now() -> Any:
    """`timestamptz NOT NULL DEFAULT now()`: the transaction's time."""
    return mapped_column(server_default=text("now()"))


def _clock() -> Any:
    """`timestamptz NOT NULL DEFAULT clock_timestamp()`: orders rows written in one transaction."""
    return mapped_column(server_default=text("clock_timestamp()"))


def _default(sql: str) -> Any:
    """A column the database fills with the constant `sql` when an insert leaves it out."""
    return mapped_column(server_default=text(sql))


def _point() -> Geography:
    return Geography(geometry_type="POINT", srid=4326, spatial_index=False)


class Base(DeclarativeBase):
    type_annotation_map = {dt.datetime: TZ, dict[str, Any]: JSONB, list[Any]: JSONB}


class Operator(Base):
    __tablename__ = "operators"

    id: Mapped[int] = _id()
    name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    created_at: Mapped[dt.datetime] = _now()
    revoked_at: Mapped[dt.datetime | None]


class Responder(Base):
    __tablename__ = "responders"
    __table_args__ = (Index("responders_email_key", text("lower(email)"), unique=True),)

    id: Mapped[int] = _id()
    name: Mapped[str] = mapped_column(Text)
    phone: Mapped[str] = mapped_column(Text)
    email: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default=text("'active'"))
    paused_until: Mapped[dt.datetime | None]
    # Bumped by every statement that alerts the volunteer: a wave writes an alert only
    # if it is unchanged since it read its candidates (responders/dispatch/waves.py).
    alert_seq: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    # Alerts before this time do not count toward the daily cap (the demo's fresh day).
    alert_cap_since: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = _now()
    updated_at: Mapped[dt.datetime] = _now()

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
    __table_args__ = (Index("responder_tokens_responder_idx", "responder_id"),)

    id: Mapped[int] = _id()
    responder_id: Mapped[int] = mapped_column(ForeignKey("responders.id", ondelete="CASCADE"))
    token_hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    created_at: Mapped[dt.datetime] = _now()
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
    __table_args__ = (
        Index("places_location_idx", "location", postgresql_using="gist"),
        Index("places_responder_idx", "responder_id"),
    )

    id: Mapped[int] = _id()
    responder_id: Mapped[int] = mapped_column(ForeignKey("responders.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(Text)
    label: Mapped[str | None] = mapped_column(Text)
    location: Mapped[Any] = mapped_column(_point())
    # What the volunteer said, for display; `available` is derived from it for queries.
    windows: Mapped[list[Any]] = _default("'[]'")
    available: Mapped[Any] = mapped_column(INT4MULTIRANGE, server_default=text("'{}'"))


class LiveLocation(Base):
    """The latest point only: overwritten on every update, never a history."""

    __tablename__ = "live_locations"
    __table_args__ = (
        Index("live_locations_location_idx", "location", postgresql_using="gist"),
        Index("live_locations_updated_idx", "updated_at"),
    )

    responder_id: Mapped[int] = mapped_column(
        ForeignKey("responders.id", ondelete="CASCADE"), primary_key=True
    )
    location: Mapped[Any] = mapped_column(_point())
    accuracy_m: Mapped[float] = mapped_column(REAL)
    updated_at: Mapped[dt.datetime] = _now()


class Device(Base):
    __tablename__ = "devices"
    __table_args__ = (
        Index("devices_responder_idx", "responder_id"),
        Index("devices_token_idx", "token_id"),
    )

    id: Mapped[int] = _id()
    responder_id: Mapped[int] = mapped_column(ForeignKey("responders.id", ondelete="CASCADE"))
    # 'fcm' (a native app's FCM token) or 'webpush' (a browser's push subscription).
    kind: Mapped[str] = mapped_column(Text, server_default=text("'fcm'"))
    fcm_token: Mapped[str | None] = mapped_column(Text, unique=True)
    platform: Mapped[str] = mapped_column(Text)
    endpoint: Mapped[str | None] = mapped_column(Text, unique=True)
    p256dh: Mapped[str | None] = mapped_column(Text)
    auth: Mapped[str | None] = mapped_column(Text)
    # The app sign-in that registered it: signing out there removes the device.
    token_id: Mapped[int | None] = mapped_column(
        ForeignKey("responder_tokens.id", ondelete="CASCADE")
    )
    created_at: Mapped[dt.datetime] = _now()


class Aed(Base):
    __tablename__ = "aeds"
    __table_args__ = (Index("aeds_location_idx", "location", postgresql_using="gist"),)

    id: Mapped[int] = _id()
    location: Mapped[Any] = mapped_column(_point())
    address: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    access: Mapped[str] = mapped_column(Text)
    opening_hours: Mapped[list[Any]] = _default("'[]'")
    open_minutes: Mapped[Any] = mapped_column(INT4MULTIRANGE, server_default=text("'{}'"))
    cabinet_code: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default=text("'in_service'"))
    external_ref: Mapped[str | None] = mapped_column(Text, unique=True)
    created_at: Mapped[dt.datetime] = _now()
    updated_at: Mapped[dt.datetime] = _now()


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        Index(
            "incidents_open_idx",
            "status",
            desc("created_at"),
            postgresql_where=text("status IN ('triage', 'active')"),
        ),
        Index(
            "incidents_timer_idx",
            "next_wave_at",
            postgresql_where=text("status = 'active' AND next_wave_at IS NOT NULL"),
        ),
        Index(
            "incidents_replacements_idx",
            "id",
            postgresql_where=text("status = 'active' AND replacements_due > 0"),
        ),
        Index(
            "incidents_unpurged_idx",
            "ended_at",
            postgresql_where=text("purged_at IS NULL AND status IN ('closed', 'cancelled')"),
        ),
        Index("incidents_created_idx", desc("created_at")),
    )

    id: Mapped[int] = _id()
    kind: Mapped[str] = mapped_column(Text)
    location: Mapped[Any] = mapped_column(_point())
    address: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    callback_phone: Mapped[str | None] = mapped_column(Text)
    reported_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id", ondelete="SET NULL"))
    wave: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    radius_m: Mapped[float] = mapped_column(REAL, default=0.0, server_default=text("0"))
    next_wave_at: Mapped[dt.datetime | None]
    replacements_due: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    created_at: Mapped[dt.datetime] = _now()
    updated_at: Mapped[dt.datetime] = _now()
    ended_at: Mapped[dt.datetime | None]
    # When an ended incident was purged of personal data (responders.privacy).
    purged_at: Mapped[dt.datetime | None]
    # A citizen report's area, when it came in a suspected flood (see responders.floods).
    flood_group: Mapped[str | None] = mapped_column(Text)
    # A citizen report's status link: the SHA-256 digest of the token only its reporter
    # holds (responders.reports), and when an operator first opened it in triage.
    status_token_hash: Mapped[bytes | None] = mapped_column(LargeBinary, unique=True)
    seen_at: Mapped[dt.datetime | None]

    # Why it was closed or cancelled (responders/endings.py), and the operator's note.
    end_reason: Mapped[str | None] = mapped_column(Text)
    end_note: Mapped[str | None] = mapped_column(Text)


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("incident_id", "responder_id"),
        Index("alerts_responder_idx", "responder_id", desc("created_at")),
        Index(
            "alerts_pending_idx",
            "expires_at",
            postgresql_where=text("status IN ('queued', 'sent', 'delivered')"),
        ),
        # The busy probe of the candidate query reads it: the statuses that make busy.
        Index(
            "alerts_busy_idx",
            "responder_id",
            postgresql_where=text(
                "status IN ('queued', 'sent', 'delivered', 'accepted', 'arrived')"
            ),
        ),
    )

    id: Mapped[int] = _id()
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
    status: Mapped[str] = mapped_column(Text, default="queued", server_default=text("'queued'"))
    stand_down_reason: Mapped[str | None] = mapped_column(Text)
    fcm_message_id: Mapped[str | None] = mapped_column(Text)
    push_error: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[dt.datetime]
    created_at: Mapped[dt.datetime] = _now()
    updated_at: Mapped[dt.datetime] = _now()


class IncidentEvent(Base):
    """One line of an incident's timeline: the audit trail of every transition."""

    __tablename__ = "incident_events"
    __table_args__ = (Index("incident_events_incident_idx", "incident_id", "id"),)

    id: Mapped[int] = _id()
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'"))
    created_at: Mapped[dt.datetime] = _clock()


class OutboxItem(Base):
    """A push to deliver, written in the same transaction as its alert."""

    __tablename__ = "outbox"
    __table_args__ = (Index("outbox_available_idx", "available_at", "id"),)

    id: Mapped[int] = _id()
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    available_at: Mapped[dt.datetime] = _now()
    expires_at: Mapped[dt.datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = _clock()
    # Set while a worker sends the row (see responders.delivery.outbox).
    leased_until: Mapped[dt.datetime | None]
    unconfirmed: Mapped[int] = mapped_column(default=0, server_default=text("0"))


# Geocoding (migration 0011, `responders.geocode`).


class GeocodeEntry(Base):
    """An address, a street (its segments merged) or a named place, searchable by name."""

    __tablename__ = "geocode_entries"
    __table_args__ = (
        Index(
            "geocode_entries_street_idx",
            "street_key",
            "house_lo",
            postgresql_where=text("kind = 'address'"),
        ),
        Index(
            "geocode_entries_location_idx",
            "location",
            postgresql_using="gist",
            postgresql_where=text("kind = 'address'"),
        ),
        Index(
            "geocode_entries_shape_idx",
            "shape",
            postgresql_using="gist",
            postgresql_where=text("kind = 'street'"),
        ),
        Index("geocode_entries_source_idx", "source", "kind"),
    )

    id: Mapped[int] = _id()
    kind: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(Text)
    names: Mapped[list[str]] = mapped_column(ARRAY(Text))
    street: Mapped[str | None] = mapped_column(Text)
    street_key: Mapped[str | None] = mapped_column(Text)
    housenumber: Mapped[str | None] = mapped_column(Text)
    house_key: Mapped[str | None] = mapped_column(Text)
    house_lo: Mapped[int | None]
    house_hi: Mapped[int | None]
    postcode: Mapped[str | None] = mapped_column(Text)
    city: Mapped[str | None] = mapped_column(Text)
    location: Mapped[Any] = mapped_column(_point())
    shape: Mapped[Any | None] = mapped_column(
        Geography(geometry_type="GEOMETRY", srid=4326, spatial_index=False)
    )


class GeocodeName(Base):
    """A normalised name a search reaches an entry (or a street's addresses) by."""

    __tablename__ = "geocode_names"
    __table_args__ = (
        Index(
            "geocode_names_entry_search_idx",
            "search",
            postgresql_using="gin",
            postgresql_ops={"search": "gin_trgm_ops"},
            postgresql_with={"fastupdate": "off"},
            postgresql_where=text("entry_id IS NOT NULL"),
        ),
        Index(
            "geocode_names_street_search_idx",
            "search",
            postgresql_using="gin",
            postgresql_ops={"search": "gin_trgm_ops"},
            postgresql_with={"fastupdate": "off"},
            postgresql_where=text("street_key IS NOT NULL"),
        ),
    )

    id: Mapped[int] = _id()
    # No foreign key: the names are derived from the entries and replaced whole.
    entry_id: Mapped[int | None] = mapped_column(BigInteger)
    street_key: Mapped[str | None] = mapped_column(Text)
    search: Mapped[str] = mapped_column(Text)


class GeocodeSource(Base):
    """What the entries of a source were built from (the extract's sha256)."""

    __tablename__ = "geocode_sources"

    source: Mapped[str] = mapped_column(Text, primary_key=True)
    digest: Mapped[str] = mapped_column(Text)
    entries: Mapped[int]
    replaces_osm: Mapped[bool] = mapped_column(server_default=text("false"))
    built_at: Mapped[dt.datetime] = _now()
