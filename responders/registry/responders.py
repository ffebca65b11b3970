"""Volunteer registry: register, read, update, availability, devices, erase; live
locations are read here and written by `registry.locations`. The SQL is in `registry.store`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from responders.db.gateway import Conn, Database
from responders.errors import Conflict, InvalidInput, NotFound
from responders.privacy import scrub_responder
from responders.push.endpoints import check_subscription
from responders.registry import store
from responders.registry.store import Availability, TokenUse
from responders.schemas.responders import (
    AvailabilityUpdate,
    DevicePublic,
    FcmDeviceCreate,
    PlaceIn,
    QualificationIn,
    ResponderCreate,
    ResponderPublic,
    ResponderUpdate,
    WebPushDeviceCreate,
)
from responders.security import hash_token, new_token

__all__ = [
    "add_device",
    "erase_responder",
    "get_responder",
    "register_responder",
    "remove_device",
    "revoke_token",
    "set_availability",
    "stop_sharing_location",
    "token_history",
    "update_responder",
]

_EMAIL_TAKEN = "a volunteer with this e-mail address is already registered"
_DEVICE_TAKEN = (
    "this device is registered to another volunteer: sign out of the app on it first, "
    "then register it again"
)


async def register_responder(db: Database, data: ResponderCreate) -> tuple[ResponderPublic, str]:
    """Create the volunteer with their first device credential; the token is shown once."""
    token = new_token("rs")
    _check_qualifications(data.qualifications)
    async with db.transaction() as conn:
        # E-mail writes never raise a unique violation (PostgreSQL would log the address):
        # the address's lock orders them, and a taken one inserts nothing.
        await store.lock_email(conn, data.email)
        responder_id = await store.insert_responder(
            conn, name=data.name, phone=data.phone, email=data.email, conflict=_EMAIL_TAKEN
        )
        if responder_id is None:
            raise Conflict(_EMAIL_TAKEN)
        await store.add_qualifications(conn, responder_id, data.qualifications)
        await _add_places(conn, responder_id, data.places)
        credential = await store.add_responder_token(conn, responder_id, hash_token(token))
        if data.device:
            await _upsert_device(conn, responder_id, credential, data.device)
        return await _responder(conn, responder_id), token


async def get_responder(db: Database, responder_id: int) -> ResponderPublic:
    async with db.connection() as conn:
        return await _responder(conn, responder_id)


async def _responder(conn: Conn, responder_id: int) -> ResponderPublic:
    found = await store.responder(conn, responder_id)
    if found is None:
        raise NotFound("no such volunteer")
    return found


async def update_responder(
    db: Database,
    responder_id: int,
    data: ResponderUpdate,
    *,
    on_email_change: Callable[[], None] = lambda: None,
) -> ResponderPublic:
    """`on_email_change` runs before a change to another address is tried, whatever its
    outcome (the API limits those: a 409 tells whether an address is registered)."""
    if data.qualifications is not None:
        _check_qualifications(data.qualifications)
    async with db.transaction() as conn:
        current = await _responder(conn, responder_id)
        change_email = data.email is not None and data.email != current.email
        if change_email and data.email is not None and data.email.lower() != current.email.lower():
            on_email_change()
        now = dt.datetime.now(dt.UTC)
        await store.update_contact(conn, responder_id, name=data.name, phone=data.phone, now=now)
        if data.qualifications is not None:
            await store.delete_qualifications(conn, responder_id)
            await store.add_qualifications(conn, responder_id, data.qualifications)
        if data.places is not None:
            await store.delete_places(conn, responder_id)
            await _add_places(conn, responder_id, data.places)
        if change_email and data.email is not None:
            await _change_email(conn, responder_id, data.email)
        return await _responder(conn, responder_id)


async def _change_email(conn: Conn, responder_id: int, email: str) -> None:
    await store.lock_email(conn, email)
    if not await store.change_email(conn, responder_id, email, conflict=_EMAIL_TAKEN):
        raise Conflict(_EMAIL_TAKEN)


async def set_availability(
    db: Database, responder_id: int, data: AvailabilityUpdate, now: dt.datetime
) -> ResponderPublic:
    async with db.transaction() as conn:
        current = await store.availability(conn, responder_id)
        if current is None:
            raise NotFound("no such volunteer")
        if data.paused_until is not None and data.paused_until <= now:
            raise InvalidInput("paused_until must be in the future", field="body.paused_until")
        await store.set_availability(conn, responder_id, _availability(current, data), now)
        if data.places is not None:
            await store.delete_places(conn, responder_id)
            await _add_places(conn, responder_id, data.places)
        return await _responder(conn, responder_id)


def _availability(current: Availability, data: AvailabilityUpdate) -> Availability:
    """A pause (`paused_until`) or a status changes both; neither keeps them as they are."""
    if data.paused_until is None and data.status is None:
        return current
    status = data.status or "paused"
    return Availability(status, data.paused_until if status == "paused" else None)


async def add_device(
    db: Database,
    responder_id: int,
    token: str,
    data: FcmDeviceCreate | WebPushDeviceCreate,
    *,
    allow_loopback: bool = False,
) -> DevicePublic:
    """Register a device for the volunteer signed in with `token` (see `_upsert_device`).
    A Web Push subscription must be one we may send to (`push.endpoints`); `allow_loopback`
    is the setting that lets a local push service's endpoint through."""
    if isinstance(data, WebPushDeviceCreate):
        sub = data.subscription
        check_subscription(
            sub.endpoint, sub.keys.p256dh, sub.keys.auth, allow_loopback=allow_loopback
        )
    async with db.transaction() as conn:
        credential = await store.credential_id(conn, hash_token(token))
        return await _upsert_device(conn, responder_id, credential, data)


async def _upsert_device(
    conn: Conn,
    responder_id: int,
    credential: int | None,
    data: FcmDeviceCreate | WebPushDeviceCreate,
) -> DevicePublic:
    """An FCM token (a Web Push endpoint) belongs to an app install (a browser). Naming it
    proves nothing (anyone who saw it could), so a device another volunteer holds moves
    only once the app that registered it has let go: signing out there (`revoke_token`)
    or erasing its volunteer removes it.
    Until then: 409, and its holder keeps getting alerts. `credential`: the id of the
    sign-in that registers it now."""
    device = await store.upsert_device(conn, responder_id, credential, data, conflict=_DEVICE_TAKEN)
    if device is None:
        raise Conflict(_DEVICE_TAKEN)
    return device


async def erase_responder(db: Database, responder_id: int) -> None:
    """Remove the person for good: their rows cascade from `responders`; alerts they had
    stay for the incidents' statistics, without their positions, routes or id."""
    async with db.transaction() as conn:
        await scrub_responder(conn, responder_id)
        await store.delete_responder(conn, responder_id)


async def revoke_token(db: Database, token: str) -> None:
    """Log this device out: its token stops working at once (an open stream ends within
    seconds, see `api.streams`), and the devices it registered get no more alerts and
    are free to be registered by whoever signs in on them next."""
    await store.revoke_token(db, hash_token(token))


async def token_history(db: Database, responder_id: int) -> list[TokenUse]:
    return await store.token_history(db, responder_id)


def _check_qualifications(items: list[QualificationIn]) -> None:
    kinds = [q.kind for q in items]
    if len(set(kinds)) != len(kinds):
        raise InvalidInput("each qualification may appear once", field="body.qualifications")


async def _add_places(conn: Conn, responder_id: int, places: list[PlaceIn]) -> None:
    for place in places:
        await store.add_place(conn, responder_id, place)


async def stop_sharing_location(db: Database, responder_id: int) -> None:
    """Delete the live point; sharing again later starts from nothing (idempotent)."""
    await store.delete_live_location(db, responder_id)


async def remove_device(db: Database, responder_id: int, device_id: int) -> None:
    """Stop alerts to one of the volunteer's phones (a lost phone, an old browser). Another
    volunteer's device is "not found", as a device that does not exist."""
    if not await store.delete_device(db, responder_id, device_id):
        raise NotFound("no such device")
