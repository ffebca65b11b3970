"""Volunteer registry: register, read, update, availability, devices, erase; live
locations are read here and written by `registry.locations`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import delete, func, select, text, update
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
from responders.errors import Conflict, InvalidInput, NotFound
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
_DEVICE_TAKEN = (
    "this device is registered to another volunteer: sign out of the app on it first, "
    "then register it again"
)

# E-mail writes never raise a unique violation: PostgreSQL would log the message, and with it
# the address ("Key (lower(email))=(...) already exists"). A transaction lock on the address
# (two-key form, first key: this namespace) orders every write of one address, so the check
# that no one else has it cannot be overtaken by a concurrent registration or change.
_EMAIL_LOCK = text("SELECT pg_advisory_xact_lock(1701671276, hashtext(lower(:email)))")
_CHANGE_EMAIL = text(
    """
    UPDATE responders SET email = :email
    WHERE id = :id
      AND NOT EXISTS (SELECT 1 FROM responders WHERE lower(email) = lower(:email) AND id <> :id)
    RETURNING id
    """
)


async def register_responder(session: AsyncSession, data: ResponderCreate) -> tuple[Responder, str]:
    """Create the volunteer with their first device credential; the token is shown once."""
    token = new_token("rs")
    details: list[Qualification | Place] = [
        *_qualifications(data.qualifications),
        *_places(data.places),
    ]
    with translate_db_errors(_EMAIL_TAKEN):
        await session.execute(_EMAIL_LOCK, {"email": data.email})
        responder_id = await session.scalar(
            insert(Responder)
            .values(name=data.name, phone=data.phone, email=data.email, status="active")
            .on_conflict_do_nothing()
            .returning(Responder.id)
        )
        if responder_id is None:
            await session.rollback()
            raise Conflict(_EMAIL_TAKEN)
        for detail in details:
            detail.responder_id = responder_id
        session.add_all(details)
        credential = ResponderToken(responder_id=responder_id, token_hash=hash_token(token))
        session.add(credential)
        await session.flush()
        if data.device:
            await _upsert_device(session, responder_id, credential.id, data.device)
        await session.commit()
    return await get_responder(session, responder_id), token


async def get_responder(session: AsyncSession, responder_id: int) -> Responder:
    session.expire_all()
    responder = await session.get(Responder, responder_id, populate_existing=True)
    if responder is None:
        raise NotFound("no such volunteer")
    return responder


async def update_responder(
    session: AsyncSession,
    responder_id: int,
    data: ResponderUpdate,
    *,
    on_email_change: Callable[[], None] = lambda: None,
) -> Responder:
    """`on_email_change` runs before a change to another address is tried, whatever its
    outcome (the API limits those: a 409 tells whether an address is registered)."""
    responder = await get_responder(session, responder_id)
    for field in ("name", "phone"):
        if (value := getattr(data, field)) is not None:
            setattr(responder, field, value)
    if data.qualifications is not None:
        responder.qualifications = _qualifications(data.qualifications)
    if data.places is not None:
        responder.places = _places(data.places)
    responder.updated_at = dt.datetime.now(dt.UTC)
    with translate_db_errors(_EMAIL_TAKEN):
        if data.email is not None and data.email != responder.email:
            if data.email.lower() != responder.email.lower():
                on_email_change()
            await _change_email(session, responder_id, data.email)
        await session.commit()
    return await get_responder(session, responder_id)


async def _change_email(session: AsyncSession, responder_id: int, email: str) -> None:
    await session.execute(_EMAIL_LOCK, {"email": email})
    changed = await session.scalar(_CHANGE_EMAIL, {"id": responder_id, "email": email})
    if changed is None:
        await session.rollback()
        raise Conflict(_EMAIL_TAKEN)


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


async def add_device(
    session: AsyncSession, responder_id: int, token: str, data: DeviceCreate
) -> Device:
    """Register a device for the volunteer signed in with `token` (see `_upsert_device`)."""
    credential = await session.scalar(
        select(ResponderToken.id).where(ResponderToken.token_hash == hash_token(token))
    )
    device = await _upsert_device(session, responder_id, credential, data)
    await session.commit()
    return device


# A device another volunteer holds is taken over only once the sign-in that registered it
# is no longer valid; one registered before sign-ins were recorded (no `token_id`) once its
# volunteer holds no valid sign-in at all. Otherwise no row: nothing changes.
_UPSERT_DEVICE = text(
    """
    INSERT INTO devices (responder_id, fcm_token, platform, token_id)
    VALUES (:responder, :fcm_token, :platform, :credential)
    ON CONFLICT (fcm_token) DO UPDATE
    SET responder_id = EXCLUDED.responder_id, platform = EXCLUDED.platform,
        token_id = EXCLUDED.token_id
    WHERE devices.responder_id = EXCLUDED.responder_id
       OR NOT EXISTS (
           SELECT 1 FROM responder_tokens t
           WHERE t.revoked_at IS NULL
             AND (t.id = devices.token_id
                  OR devices.token_id IS NULL AND t.responder_id = devices.responder_id))
    RETURNING id
    """
)


async def _upsert_device(
    session: AsyncSession, responder_id: int, credential: int | None, data: DeviceCreate
) -> Device:
    """An FCM token belongs to an app install. Naming it proves nothing (anyone who saw it
    could), so a device another volunteer holds moves only once the app that registered it
    has let go: signing out there (`revoke_token`) or erasing its volunteer removes it.
    Until then: 409, and its holder keeps getting alerts. `credential`: the id of the
    sign-in that registers it now."""
    device_id = await session.scalar(
        _UPSERT_DEVICE,
        {
            "responder": responder_id,
            "fcm_token": data.fcm_token,
            "platform": data.platform,
            "credential": credential,
        },
    )
    if device_id is None:
        await session.rollback()
        raise Conflict(_DEVICE_TAKEN)
    device = await session.get(Device, device_id, populate_existing=True)
    assert device is not None  # just written, in this transaction
    return device


async def erase_responder(session: AsyncSession, responder_id: int) -> None:
    """Remove the person for good: their rows cascade from `responders`; alerts they had
    stay for the incidents' statistics, without their positions, routes or id."""
    await scrub_responder(await session.connection(), responder_id)
    await session.execute(delete(Responder).where(Responder.id == responder_id))
    await session.commit()


async def revoke_token(session: AsyncSession, token: str) -> None:
    """Log this device out: its token stops working at once (an open stream ends within
    seconds, see `api.streams`), and the devices it registered get no more alerts and
    are free to be registered by whoever signs in on them next."""
    revoked = await session.scalars(
        update(ResponderToken)
        .where(ResponderToken.token_hash == hash_token(token), ResponderToken.revoked_at.is_(None))
        .values(revoked_at=func.now())
        .returning(ResponderToken.id)
    )
    await session.execute(delete(Device).where(Device.token_id.in_(list(revoked))))
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
