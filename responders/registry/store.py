"""The registries' SQL: volunteers and their credentials, places, devices and live
locations; AEDs; operators; the credential lookups of `auth`; the demo's few statements.

Every statement is whole and named for what it does; the functions below are the only way
the rest of the code reaches these tables (through `responders.db.gateway`). A point goes in
as `ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography` and comes back as its ST_X/ST_Y;
weekly windows go in as the person typed them (JSON) beside their minute-of-week multirange
(`responders.availability`), which only SQL reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from psycopg.types.json import Jsonb

from responders.availability import windows_to_multirange
from responders.db.gateway import Conn, Database, Reader, Row
from responders.schemas.aeds import AedCreate
from responders.schemas.common import GeoPoint, LatLon
from responders.schemas.responders import (
    DevicePublic,
    FcmDeviceCreate,
    LiveLocationPublic,
    PlaceIn,
    PlacePublic,
    QualificationIn,
    QualificationPublic,
    ResponderPublic,
    WebPushDeviceCreate,
)

__all__ = [
    "AedRow",
    "Availability",
    "DemoVolunteer",
    "LocationBatch",
    "OperatorRow",
    "TokenUse",
    "add_place",
    "add_qualifications",
    "add_responder_token",
    "aed",
    "aeds_near",
    "aeds_page",
    "availability",
    "change_email",
    "count_aeds",
    "count_volunteers_like",
    "credential_id",
    "delete_device",
    "delete_live_location",
    "delete_places",
    "delete_qualifications",
    "delete_responder",
    "demo_volunteers",
    "freshen_live_locations",
    "insert_aed",
    "insert_operator",
    "insert_responder",
    "lock_email",
    "operator_credentials",
    "operators",
    "ping",
    "responder",
    "responder_token_credentials",
    "retired_ref",
    "revoke_operator",
    "revoke_token",
    "save_aed",
    "set_availability",
    "token_history",
    "update_aed",
    "update_contact",
    "upsert_device",
    "volunteer_names_like",
    "write_locations",
]


# ---------- volunteers ----------

# E-mail writes never raise a unique violation: PostgreSQL would log the message, and with it
# the address ("Key (lower(email))=(...) already exists"). A transaction lock on the address
# (two-key form, first key: this namespace) orders every write of one address, so the check
# that no one else has it cannot be overtaken by a concurrent registration or change.
_LOCK_EMAIL = "SELECT pg_advisory_xact_lock(1701671276, hashtext(lower(%(email)s)))"
_INSERT_RESPONDER = """
    INSERT INTO responders (name, phone, email, status)
    VALUES (%(name)s, %(phone)s, %(email)s, 'active')
    ON CONFLICT DO NOTHING
    RETURNING id
"""
_CHANGE_EMAIL = """
    UPDATE responders SET email = %(email)s
    WHERE id = %(id)s
      AND NOT EXISTS (
          SELECT 1 FROM responders WHERE lower(email) = lower(%(email)s) AND id <> %(id)s)
    RETURNING id
"""
_AVAILABILITY = "SELECT status, paused_until FROM responders WHERE id = %(id)s"
_UPDATE_CONTACT = """
    UPDATE responders
    SET name = coalesce(%(name)s::text, name), phone = coalesce(%(phone)s::text, phone),
        updated_at = %(now)s
    WHERE id = %(id)s
"""
_SET_AVAILABILITY = """
    UPDATE responders
    SET status = %(status)s, paused_until = %(paused_until)s, updated_at = %(now)s
    WHERE id = %(id)s
"""
_INSERT_QUALIFICATIONS = """
    INSERT INTO qualifications (responder_id, kind, expires_on)
    SELECT %(id)s, kind, expires_on
    FROM unnest(%(kinds)s::text[], %(expiries)s::date[]) AS q(kind, expires_on)
"""
_DELETE_QUALIFICATIONS = "DELETE FROM qualifications WHERE responder_id = %(id)s"
_INSERT_PLACE = """
    INSERT INTO places (responder_id, kind, label, location, windows, available)
    VALUES (%(id)s, %(kind)s, %(label)s,
            ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography,
            %(windows)s, %(available)s::int4multirange)
"""
_DELETE_PLACES = "DELETE FROM places WHERE responder_id = %(id)s"
_INSERT_SIGN_IN = """
    INSERT INTO responder_tokens (responder_id, token_hash) VALUES (%(id)s, %(digest)s)
    RETURNING id
"""
# The whole volunteer as the API shows it, in one round trip: the lists in the order the
# pages show them (qualifications by kind, places and devices as they were added).
_RESPONDER = """
    SELECT r.id, r.name, r.phone, r.email, r.status, r.paused_until, r.created_at,
           coalesce((
               SELECT jsonb_agg(jsonb_build_object('kind', q.kind, 'expires_on', q.expires_on)
                                ORDER BY q.kind)
               FROM qualifications q WHERE q.responder_id = r.id), '[]') AS qualifications,
           coalesce((
               SELECT jsonb_agg(jsonb_build_object(
                          'id', p.id, 'kind', p.kind, 'label', p.label, 'windows', p.windows,
                          'lon', ST_X(p.location::geometry), 'lat', ST_Y(p.location::geometry))
                      ORDER BY p.id)
               FROM places p WHERE p.responder_id = r.id), '[]') AS places,
           coalesce((
               SELECT jsonb_agg(jsonb_build_object(
                          'id', d.id, 'kind', d.kind, 'platform', d.platform,
                          'fcm_token', d.fcm_token, 'endpoint', d.endpoint,
                          'created_at', d.created_at)
                      ORDER BY d.id)
               FROM devices d WHERE d.responder_id = r.id), '[]') AS devices,
           ST_X(l.location::geometry) AS live_lon, ST_Y(l.location::geometry) AS live_lat,
           l.accuracy_m::float8 AS live_accuracy_m, l.updated_at AS live_updated_at
    FROM responders r LEFT JOIN live_locations l ON l.responder_id = r.id
    WHERE r.id = %(id)s
"""
# The erase: every row of the person cascades from `responders`.
_DELETE_RESPONDER = "DELETE FROM responders WHERE id = %(id)s"
_SIGN_IN_HISTORY = """
    SELECT created_at, revoked_at FROM responder_tokens
    WHERE responder_id = %(id)s ORDER BY id
"""
_CREDENTIAL_ID = "SELECT id FROM responder_tokens WHERE token_hash = %(digest)s"
# A device another volunteer holds is taken over only once the sign-in that registered it
# is no longer valid; one registered before sign-ins were recorded (no `token_id`) once its
# volunteer holds no valid sign-in at all. Otherwise no row: nothing changes.
_TAKEOVER_ALLOWED = """
    WHERE devices.responder_id = EXCLUDED.responder_id
       OR NOT EXISTS (
           SELECT 1 FROM responder_tokens t
           WHERE t.revoked_at IS NULL
             AND (t.id = devices.token_id
                  OR devices.token_id IS NULL AND t.responder_id = devices.responder_id))
"""
_DEVICE_COLUMNS = "id, kind, platform, fcm_token, endpoint, created_at"
_UPSERT_DEVICE = f"""
    INSERT INTO devices (responder_id, fcm_token, platform, token_id)
    VALUES (%(responder)s, %(fcm_token)s, %(platform)s, %(credential)s)
    ON CONFLICT (fcm_token) DO UPDATE
    SET responder_id = EXCLUDED.responder_id, platform = EXCLUDED.platform,
        token_id = EXCLUDED.token_id
    {_TAKEOVER_ALLOWED}
    RETURNING {_DEVICE_COLUMNS}
"""  # noqa: S608 - constant fragments, never input
# A Web Push subscription is one browser's: its endpoint is the device's identity.
_UPSERT_WEBPUSH_DEVICE = f"""
    INSERT INTO devices (responder_id, kind, platform, endpoint, p256dh, auth, token_id)
    VALUES (%(responder)s, 'webpush', 'web', %(endpoint)s, %(p256dh)s, %(auth)s,
            %(credential)s)
    ON CONFLICT (endpoint) DO UPDATE
    SET responder_id = EXCLUDED.responder_id, p256dh = EXCLUDED.p256dh,
        auth = EXCLUDED.auth, token_id = EXCLUDED.token_id
    {_TAKEOVER_ALLOWED}
    RETURNING {_DEVICE_COLUMNS}
"""  # noqa: S608 - constant fragments, never input
# Signing out: the credential stops working, and the devices it registered go with it, in
# one statement.
_SIGN_OUT = """
    WITH revoked AS (
        UPDATE responder_tokens SET revoked_at = now()
        WHERE token_hash = %(digest)s AND revoked_at IS NULL
        RETURNING id
    )
    DELETE FROM devices WHERE token_id IN (SELECT id FROM revoked)
"""


async def lock_email(conn: Conn, email: str) -> None:
    """Hold the address's lock until the transaction ends (see `_LOCK_EMAIL`)."""
    await conn.execute(_LOCK_EMAIL, {"email": email})


async def insert_responder(
    conn: Conn, *, name: str, phone: str, email: str, conflict: str
) -> int | None:
    """The new volunteer's id; None when the address is registered already."""
    params = {"name": name, "phone": phone, "email": email}
    return await conn.scalar(_INSERT_RESPONDER, params, conflict=conflict)


async def change_email(conn: Conn, responder_id: int, email: str, *, conflict: str) -> bool:
    """False when another volunteer has the address (the lock must be held)."""
    params = {"id": responder_id, "email": email}
    return await conn.scalar(_CHANGE_EMAIL, params, conflict=conflict) is not None


@dataclass(frozen=True, slots=True)
class Availability:
    status: str
    paused_until: dt.datetime | None


async def availability(conn: Conn, responder_id: int) -> Availability | None:
    """The volunteer's status and pause, or None when there is no such volunteer."""
    row = await conn.first(_AVAILABILITY, {"id": responder_id})
    return None if row is None else Availability(row["status"], row["paused_until"])


async def update_contact(
    conn: Conn, responder_id: int, *, name: str | None, phone: str | None, now: dt.datetime
) -> None:
    """Name and phone, each where given."""
    params = {"id": responder_id, "name": name, "phone": phone, "now": now}
    await conn.execute(_UPDATE_CONTACT, params)


async def set_availability(
    conn: Conn, responder_id: int, availability: Availability, now: dt.datetime
) -> None:
    params = {
        "id": responder_id,
        "status": availability.status,
        "paused_until": availability.paused_until,
        "now": now,
    }
    await conn.execute(_SET_AVAILABILITY, params)


async def add_qualifications(
    conn: Conn, responder_id: int, qualifications: Sequence[QualificationIn]
) -> None:
    params = {
        "id": responder_id,
        "kinds": [q.kind for q in qualifications],
        "expiries": [q.expires_on for q in qualifications],
    }
    await conn.execute(_INSERT_QUALIFICATIONS, params)


async def delete_qualifications(conn: Conn, responder_id: int) -> None:
    await conn.execute(_DELETE_QUALIFICATIONS, {"id": responder_id})


async def add_place(conn: Conn, responder_id: int, place: PlaceIn) -> None:
    """One place; its windows stored as typed, and as the minutes of the week they cover."""
    params = {
        "id": responder_id,
        "kind": place.kind,
        "label": place.label,
        "lat": place.location.lat,
        "lon": place.location.lon,
        "windows": Jsonb([w.model_dump() for w in place.windows]),
        "available": windows_to_multirange(place.windows),
    }
    await conn.execute(_INSERT_PLACE, params)


async def delete_places(conn: Conn, responder_id: int) -> None:
    await conn.execute(_DELETE_PLACES, {"id": responder_id})


async def add_responder_token(conn: Conn, responder_id: int, digest: bytes) -> int:
    """A new sign-in (its digest) of the volunteer; its id."""
    row = await conn.one(_INSERT_SIGN_IN, {"id": responder_id, "digest": digest})
    return int(row["id"])


async def responder(conn: Conn, responder_id: int) -> ResponderPublic | None:
    """The volunteer as the API shows them, or None when there is no such volunteer."""
    row = await conn.first(_RESPONDER, {"id": responder_id})
    return None if row is None else _responder_public(row)


def _responder_public(row: Row) -> ResponderPublic:
    return ResponderPublic(
        id=row["id"],
        name=row["name"],
        phone=row["phone"],
        email=row["email"],
        status=row["status"],
        paused_until=row["paused_until"],
        qualifications=[QualificationPublic.model_validate(q) for q in row["qualifications"]],
        places=[_place_public(p) for p in row["places"]],
        devices=[_device_public(d) for d in row["devices"]],
        live_location=_live_public(row),
        created_at=row["created_at"],
    )


def _device_public(device: Mapping[str, Any]) -> DevicePublic:
    """Only the host of a Web Push endpoint: the whole URL lets anyone push to the phone."""
    endpoint = device.get("endpoint")
    return DevicePublic(
        id=device["id"],
        kind=device["kind"],
        platform=device["platform"],
        fcm_token=device["fcm_token"],
        endpoint_host=urlsplit(endpoint).hostname if endpoint else None,
        created_at=device["created_at"],
    )


def _place_public(place: dict[str, Any]) -> PlacePublic:
    return PlacePublic(
        id=place["id"],
        kind=place["kind"],
        label=place["label"],
        location=GeoPoint(coordinates=(float(place["lon"]), float(place["lat"]))),
        windows=place["windows"],
    )


def _live_public(row: Row) -> LiveLocationPublic | None:
    if row["live_updated_at"] is None:
        return None
    return LiveLocationPublic(
        location=GeoPoint(coordinates=(row["live_lon"], row["live_lat"])),
        accuracy_m=row["live_accuracy_m"],
        updated_at=row["live_updated_at"],
    )


async def delete_responder(conn: Conn, responder_id: int) -> None:
    await conn.execute(_DELETE_RESPONDER, {"id": responder_id})


@dataclass(frozen=True, slots=True)
class TokenUse:
    """When a sign-in was made, and when it ended (for the data export)."""

    created_at: dt.datetime
    revoked_at: dt.datetime | None


async def token_history(db: Database, responder_id: int) -> list[TokenUse]:
    rows = await db.rows(_SIGN_IN_HISTORY, {"id": responder_id})
    return [TokenUse(row["created_at"], row["revoked_at"]) for row in rows]


async def credential_id(conn: Conn, digest: bytes) -> int | None:
    """The id of the sign-in whose token has this digest, if any."""
    found = await conn.scalar(_CREDENTIAL_ID, {"digest": digest})
    return None if found is None else int(found)


async def upsert_device(
    conn: Conn,
    responder_id: int,
    credential: int | None,
    device: FcmDeviceCreate | WebPushDeviceCreate,
    *,
    conflict: str,
) -> DevicePublic | None:
    """The device as registered now, or None when another volunteer holds it still."""
    params: dict[str, object] = {"responder": responder_id, "credential": credential}
    if isinstance(device, WebPushDeviceCreate):
        subscription = device.subscription
        params |= {
            "endpoint": subscription.endpoint,
            "p256dh": subscription.keys.p256dh,
            "auth": subscription.keys.auth,
        }
        row = await conn.first(_UPSERT_WEBPUSH_DEVICE, params, conflict=conflict)
    else:
        params |= {"fcm_token": device.fcm_token, "platform": device.platform}
        row = await conn.first(_UPSERT_DEVICE, params, conflict=conflict)
    return None if row is None else _device_public(row)


async def revoke_token(db: Database, digest: bytes) -> None:
    await db.execute(_SIGN_OUT, {"digest": digest})


# Only the caller's own device: another volunteer's id matches no row, exactly like an id
# that does not exist, so the answer never tells whose a device is.
_DELETE_OWN_DEVICE = "DELETE FROM devices WHERE id = %(id)s AND responder_id = %(responder)s"


async def delete_device(db: Database, responder_id: int, device_id: int) -> bool:
    """Whether the volunteer's device was there (and is gone now)."""
    params = {"id": device_id, "responder": responder_id}
    return await db.execute(_DELETE_OWN_DEVICE, params) > 0


# ---------- credentials (every request looks one up) ----------

# The digest is always the first column: `auth` compares it once more, in constant time.
_RESPONDER_CREDENTIAL = """
    SELECT token_hash, responder_id FROM responder_tokens
    WHERE token_hash = %(digest)s AND revoked_at IS NULL
"""
_OPERATOR_CREDENTIAL = """
    SELECT token_hash, id, name, role FROM operators
    WHERE token_hash = %(digest)s AND revoked_at IS NULL
"""


async def responder_token_credentials(reader: Reader, digest: bytes) -> list[tuple[Any, ...]]:
    """(digest, responder id) of the valid volunteer sign-in with this digest, if any."""
    return await reader.tuples(_RESPONDER_CREDENTIAL, {"digest": digest})


async def operator_credentials(reader: Reader, digest: bytes) -> list[tuple[Any, ...]]:
    """(digest, id, name, role) of the valid operator with this digest, if any."""
    return await reader.tuples(_OPERATOR_CREDENTIAL, {"digest": digest})


# ---------- live locations ----------

# Two devices of one volunteer in one group: keep one (DISTINCT ON) so the upsert never
# touches a row twice; the digests that authenticated come back either way.
_WRITE_LOCATIONS = """
    WITH v AS (
        SELECT * FROM unnest(%(hashes)s::bytea[], %(lats)s::float8[], %(lons)s::float8[],
                             %(accuracies)s::real[]) AS v(token_hash, lat, lon, accuracy)
    ), auth AS (
        SELECT t.responder_id, v.* FROM v
        JOIN responder_tokens t ON t.token_hash = v.token_hash AND t.revoked_at IS NULL
    ), written AS (
        INSERT INTO live_locations (responder_id, location, accuracy_m, updated_at)
        SELECT DISTINCT ON (responder_id) responder_id,
               ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography, accuracy, now()
        FROM auth ORDER BY responder_id
        ON CONFLICT (responder_id) DO UPDATE
        SET location = EXCLUDED.location, accuracy_m = EXCLUDED.accuracy_m,
            updated_at = EXCLUDED.updated_at
    )
    SELECT token_hash, responder_id FROM auth
"""


@dataclass(frozen=True, slots=True)
class LocationBatch:
    """Positions of many phones, each under the digest of the token that sent it."""

    hashes: list[bytes]
    lats: list[float]
    lons: list[float]
    accuracies: list[float]


async def write_locations(db: Database, batch: LocationBatch) -> dict[bytes, int]:
    """Write the positions whose token is valid; the volunteer's id by each such digest.
    The upsert is idempotent, so the gateway may send it again after a lost connection."""
    params = {
        "hashes": batch.hashes,
        "lats": batch.lats,
        "lons": batch.lons,
        "accuracies": batch.accuracies,
    }
    rows = await db.upsert(_WRITE_LOCATIONS, params)
    return {bytes(row["token_hash"]): int(row["responder_id"]) for row in rows}


_DELETE_LIVE_LOCATION = "DELETE FROM live_locations WHERE responder_id = %(id)s"


async def delete_live_location(db: Database, responder_id: int) -> None:
    """Forget the volunteer's live point (they stopped sharing): nothing kept as history."""
    await db.execute(_DELETE_LIVE_LOCATION, {"id": responder_id})


# ---------- AEDs ----------

_AED_COLUMNS = """
    id, ST_X(location::geometry) AS lon, ST_Y(location::geometry) AS lat, address,
    description, access, opening_hours, cabinet_code, status, external_ref, updated_at
"""
_INSERT_AED = f"""
    INSERT INTO aeds (location, address, description, access, opening_hours, open_minutes,
                      cabinet_code, status, external_ref)
    VALUES (ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography, %(address)s,
            %(description)s, %(access)s, %(opening_hours)s, %(open_minutes)s::int4multirange,
            %(cabinet_code)s, %(status)s, %(external_ref)s)
    RETURNING {_AED_COLUMNS}
"""  # noqa: S608 - the store's own column list, never input
# An import names AEDs by their `external_ref`: a known one is updated in place.
_UPSERT_AED = """
    INSERT INTO aeds (location, address, description, access, opening_hours, open_minutes,
                      cabinet_code, status, external_ref)
    VALUES (ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography, %(address)s,
            %(description)s, %(access)s, %(opening_hours)s, %(open_minutes)s::int4multirange,
            %(cabinet_code)s, %(status)s, %(external_ref)s)
    ON CONFLICT (external_ref) DO UPDATE
    SET location = EXCLUDED.location, address = EXCLUDED.address,
        description = EXCLUDED.description, access = EXCLUDED.access,
        opening_hours = EXCLUDED.opening_hours, open_minutes = EXCLUDED.open_minutes,
        cabinet_code = EXCLUDED.cabinet_code, status = EXCLUDED.status,
        external_ref = EXCLUDED.external_ref, updated_at = now()
"""
_AED = f"SELECT {_AED_COLUMNS} FROM aeds WHERE id = %(id)s"  # noqa: S608 - own columns
_UPDATE_AED = f"""
    UPDATE aeds
    SET location = ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography,
        address = %(address)s, description = %(description)s, access = %(access)s,
        opening_hours = %(opening_hours)s, open_minutes = %(open_minutes)s::int4multirange,
        cabinet_code = %(cabinet_code)s, status = %(status)s, external_ref = %(external_ref)s,
        updated_at = now()
    WHERE id = %(id)s
    RETURNING {_AED_COLUMNS}
"""  # noqa: S608 - the store's own column list, never input
_AEDS_PAGE = f"""
    SELECT {_AED_COLUMNS}, NULL::float8 AS distance_m FROM aeds
    ORDER BY id LIMIT %(limit)s OFFSET %(offset)s
"""  # noqa: S608 - the store's own column list, never input
# The point written out each time: an index scan in distance order (`<->`) needs it as an
# expression of the parameters, not a column of another relation.
_AEDS_NEAR = f"""
    SELECT {_AED_COLUMNS},
           ST_Distance(location, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography)
               AS distance_m
    FROM aeds
    WHERE ST_DWithin(location, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography,
                     %(radius)s)
    ORDER BY location <-> ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography
    LIMIT %(limit)s OFFSET %(offset)s
"""  # noqa: S608 - the store's own column list, never input
# One array parameter, however many rows the file has.
_RETIRED_REF = """
    SELECT external_ref FROM aeds
    WHERE external_ref = ANY(%(refs)s::text[]) AND status = 'retired'
    ORDER BY external_ref LIMIT 1
"""
_COUNT_AEDS = "SELECT count(*) FROM aeds"


@dataclass(frozen=True, slots=True)
class AedRow:
    id: int
    lon: float
    lat: float
    address: str | None
    description: str | None
    access: str
    opening_hours: list[dict[str, Any]]
    cabinet_code: str | None
    status: str
    external_ref: str | None
    updated_at: dt.datetime
    distance_m: float | None = None


def _aed_params(data: AedCreate) -> dict[str, Any]:
    return {
        "lat": data.location.lat,
        "lon": data.location.lon,
        "address": data.address,
        "description": data.description,
        "access": data.access,
        "opening_hours": Jsonb([w.model_dump() for w in data.opening_hours]),
        "open_minutes": windows_to_multirange(data.opening_hours),
        "cabinet_code": data.cabinet_code,
        "status": data.status,
        "external_ref": data.external_ref,
    }


async def insert_aed(db: Database, data: AedCreate, *, conflict: str) -> AedRow:
    row = await db.write(_INSERT_AED, _aed_params(data), conflict=conflict)
    assert row is not None  # INSERT … RETURNING
    return AedRow(**row)


async def save_aed(conn: Conn, data: AedCreate, *, conflict: str) -> None:
    """Insert the AED, or update the one with its `external_ref`."""
    sql = _INSERT_AED if data.external_ref is None else _UPSERT_AED
    await conn.execute(sql, _aed_params(data), conflict=conflict)


async def aed(conn: Conn, aed_id: int) -> AedRow | None:
    row = await conn.first(_AED, {"id": aed_id})
    return None if row is None else AedRow(**row)


async def update_aed(conn: Conn, aed_id: int, data: AedCreate) -> AedRow:
    row = await conn.one(_UPDATE_AED, {**_aed_params(data), "id": aed_id})
    return AedRow(**row)


async def aeds_page(db: Database, *, limit: int, offset: int) -> list[AedRow]:
    """AEDs in the order they were added."""
    rows = await db.rows(_AEDS_PAGE, {"limit": limit, "offset": offset})
    return [AedRow(**row) for row in rows]


async def aeds_near(
    db: Database, near: LatLon, *, radius_m: float, limit: int, offset: int
) -> list[AedRow]:
    """AEDs within `radius_m` metres of `near`, nearest first, with their distance."""
    params = {
        "lat": near.lat,
        "lon": near.lon,
        "radius": radius_m,
        "limit": limit,
        "offset": offset,
    }
    return [AedRow(**row) for row in await db.rows(_AEDS_NEAR, params)]


async def retired_ref(conn: Conn, refs: list[str]) -> str | None:
    """The first of `refs` that names a retired AED, if any."""
    found = await conn.scalar(_RETIRED_REF, {"refs": refs})
    return None if found is None else str(found)


async def count_aeds(db: Database) -> int:
    return int(await db.scalar(_COUNT_AEDS))


# ---------- operators ----------

_INSERT_OPERATOR = """
    INSERT INTO operators (name, role, token_hash) VALUES (%(name)s, %(role)s, %(digest)s)
    RETURNING id
"""
_REVOKE_OPERATOR = """
    UPDATE operators SET revoked_at = now() WHERE id = %(id)s AND revoked_at IS NULL
"""
_OPERATORS = "SELECT id, name, role, created_at, revoked_at FROM operators ORDER BY id"


@dataclass(frozen=True, slots=True)
class OperatorRow:
    id: int
    name: str
    role: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


async def insert_operator(db: Database, *, name: str, role: str, digest: bytes) -> int:
    row = await db.write(_INSERT_OPERATOR, {"name": name, "role": role, "digest": digest})
    assert row is not None  # INSERT … RETURNING
    return int(row["id"])


async def revoke_operator(db: Database, operator_id: int) -> bool:
    """False when there is no such operator, or it was revoked already."""
    return await db.execute(_REVOKE_OPERATOR, {"id": operator_id}) > 0


async def operators(db: Database) -> list[OperatorRow]:
    return [OperatorRow(**row) for row in await db.rows(_OPERATORS)]


# ---------- the demo ----------

_COUNT_VOLUNTEERS_LIKE = "SELECT count(*) FROM responders WHERE email LIKE %(pattern)s"
_VOLUNTEER_NAMES_LIKE = "SELECT id, name FROM responders WHERE email LIKE %(pattern)s"
_FRESHEN_LIVE_LOCATIONS = "UPDATE live_locations SET updated_at = now()"
_DEMO_VOLUNTEERS = """
    SELECT r.id, r.name,
           coalesce(array_agg(d.fcm_token ORDER BY d.id)
                    FILTER (WHERE d.fcm_token IS NOT NULL), '{}') AS devices
    FROM responders r LEFT JOIN devices d ON d.responder_id = r.id
    WHERE r.id = ANY(%(ids)s::bigint[]) GROUP BY r.id, r.name ORDER BY r.name, r.id
"""


@dataclass(frozen=True, slots=True)
class DemoVolunteer:
    id: int
    name: str
    devices: list[str]


async def count_volunteers_like(db: Database, email_pattern: str) -> int:
    """How many volunteers have an address matching the LIKE pattern (`%@demo.example`)."""
    return int(await db.scalar(_COUNT_VOLUNTEERS_LIKE, {"pattern": email_pattern}))


async def volunteer_names_like(db: Database, email_pattern: str) -> dict[int, str]:
    rows = await db.rows(_VOLUNTEER_NAMES_LIKE, {"pattern": email_pattern})
    return {row["id"]: row["name"] for row in rows}


async def freshen_live_locations(db: Database) -> None:
    """Every live location as if just sent (the demo's volunteers stay on the map)."""
    await db.execute(_FRESHEN_LIVE_LOCATIONS)


async def demo_volunteers(db: Database, ids: list[int]) -> list[DemoVolunteer]:
    """These volunteers with their device tokens, by name."""
    rows = await db.rows(_DEMO_VOLUNTEERS, {"ids": ids})
    return [DemoVolunteer(row["id"], row["name"], list(row["devices"])) for row in rows]


# ---------- the health probe ----------

_PING = "SELECT 1"


async def ping(db: Database) -> None:
    """Returns when the database answers a statement; raises otherwise."""
    await db.scalar(_PING)
