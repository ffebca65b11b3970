"""Volunteer registry: register, read, update, availability, devices, erase; live
locations are read here and written by `registry.locations`."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from responders.availability import windows_to_multirange
from responders.db.engine import translate_db_errors
from responders.db.geo import point_lonlat, point_value
from responders.db.tables import (
    Device,
    LiveLocation,
    Place,
    Qualification,
    Responder,
    ResponderToken,
)
from responders.errors import InvalidInput, NotFound
from responders.privacy import scrub_responder
from responders.schemas.common import GeoPoint
from responders.schemas.responders import (
    AvailabilityUpdate,
    DeviceCreate,
    DevicePublic,
    LiveLocationPublic,
    PlaceIn,
    PlacePublic,
    QualificationIn,
    QualificationPublic,
    ResponderCreate,
    ResponderPublic,
    ResponderUpdate,
)
from responders.security import hash_token, new_token

__all__ = [
    "add_device",
    "erase_responder",
    "get_responder",
    "register_responder",
    "responder_public",
    "revoke_token",
    "set_availability",
    "token_history",
    "update_responder",
]

_EMAIL_TAKEN = "a volunteer with this e-mail address is already registered"


async def register_responder(session: AsyncSession, data: ResponderCreate) -> tuple[Responder, str]:
    """Create the volunteer with their first device credential; the token is shown once."""
    responder = Responder(name=data.name, phone=data.phone, email=data.email, status="active")
    responder.qualifications = _qualifications(data.qualifications)
    responder.places = _places(data.places)
    token = new_token("rs")
    with translate_db_errors(_EMAIL_TAKEN):
        session.add(responder)
        await session.flush()
        session.add(ResponderToken(responder_id=responder.id, token_hash=hash_token(token)))
        if data.device:
            await _upsert_device(session, responder.id, data.device)
        await session.commit()
    return await get_responder(session, responder.id), token


async def get_responder(session: AsyncSession, responder_id: int) -> Responder:
    session.expire_all()
    responder = await session.get(Responder, responder_id, populate_existing=True)
    if responder is None:
        raise NotFound("no such volunteer")
    return responder


async def update_responder(
    session: AsyncSession, responder_id: int, data: ResponderUpdate
) -> Responder:
    responder = await get_responder(session, responder_id)
    for field in ("name", "phone", "email"):
        if (value := getattr(data, field)) is not None:
            setattr(responder, field, value)
    if data.qualifications is not None:
        responder.qualifications = _qualifications(data.qualifications)
    if data.places is not None:
        responder.places = _places(data.places)
    responder.updated_at = dt.datetime.now(dt.UTC)
    with translate_db_errors(_EMAIL_TAKEN):
        await session.commit()
    return await get_responder(session, responder_id)


async def set_availability(
    session: AsyncSession, responder_id: int, data: AvailabilityUpdate, now: dt.datetime
) -> Responder:
    responder = await get_responder(session, responder_id)
    if data.paused_until is not None and data.paused_until <= now:
        raise InvalidInput("paused_until must be in the future", field="body.paused_until")
    if data.paused_until is not None or data.status is not None:
        responder.status = data.status or "paused"
        responder.paused_until = data.paused_until if responder.status == "paused" else None
    if data.places is not None:
        responder.places = _places(data.places)
    responder.updated_at = now
    await session.commit()
    return await get_responder(session, responder_id)


async def add_device(session: AsyncSession, responder_id: int, data: DeviceCreate) -> Device:
    device = await _upsert_device(session, responder_id, data)
    await session.commit()
    return device


async def _upsert_device(session: AsyncSession, responder_id: int, data: DeviceCreate) -> Device:
    # An FCM token belongs to an app install; if the phone changed hands, it moves.
    statement = (
        insert(Device)
        .values(responder_id=responder_id, fcm_token=data.fcm_token, platform=data.platform)
        .on_conflict_do_update(
            index_elements=[Device.fcm_token],
            set_={"responder_id": responder_id, "platform": data.platform},
        )
        .returning(Device)
    )
    return (await session.scalars(statement, execution_options={"populate_existing": True})).one()


async def erase_responder(session: AsyncSession, responder_id: int) -> None:
    """Remove the person for good: their rows cascade from `responders`; alerts they had
    stay for the incidents' statistics, without their positions, routes or id."""
    await scrub_responder(await session.connection(), responder_id)
    await session.execute(delete(Responder).where(Responder.id == responder_id))
    await session.commit()


async def revoke_token(session: AsyncSession, token: str) -> None:
    """Log this device out: its token stops working at once."""
    await session.execute(
        update(ResponderToken)
        .where(ResponderToken.token_hash == hash_token(token), ResponderToken.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
    await session.commit()


async def token_history(session: AsyncSession, responder_id: int) -> list[dict[str, object]]:
    rows = await session.execute(
        select(ResponderToken.created_at, ResponderToken.revoked_at)
        .where(ResponderToken.responder_id == responder_id)
        .order_by(ResponderToken.id)
    )
    return [{"created_at": r.created_at, "revoked_at": r.revoked_at} for r in rows]


def _qualifications(items: list[QualificationIn]) -> list[Qualification]:
    kinds = [q.kind for q in items]
    if len(set(kinds)) != len(kinds):
        raise InvalidInput("each qualification may appear once", field="body.qualifications")
    return [Qualification(kind=q.kind, expires_on=q.expires_on) for q in items]


def _places(items: list[PlaceIn]) -> list[Place]:
    return [
        Place(
            kind=p.kind,
            label=p.label,
            location=point_value(p.location.lat, p.location.lon),
            windows=[w.model_dump() for w in p.windows],
            available=windows_to_multirange(p.windows),
        )
        for p in items
    ]


def responder_public(responder: Responder) -> ResponderPublic:
    return ResponderPublic(
        id=responder.id,
        name=responder.name,
        phone=responder.phone,
        email=responder.email,
        status=responder.status,
        paused_until=responder.paused_until,
        qualifications=[
            QualificationPublic(kind=q.kind, expires_on=q.expires_on)
            for q in responder.qualifications
        ],
        places=[_place_public(p) for p in responder.places],
        devices=[DevicePublic.model_validate(d, from_attributes=True) for d in responder.devices],
        live_location=_live_public(responder.live_location),
        created_at=responder.created_at,
    )


def _place_public(place: Place) -> PlacePublic:
    return PlacePublic(
        id=place.id,
        kind=place.kind,
        label=place.label,
        location=GeoPoint(coordinates=point_lonlat(place.location)),
        windows=place.windows,
    )


def _live_public(live: LiveLocation | None) -> LiveLocationPublic | None:
    if live is None:
        return None
    return LiveLocationPublic(
        location=GeoPoint(coordinates=point_lonlat(live.location)),
        accuracy_m=live.accuracy_m,
        updated_at=live.updated_at,
    )
