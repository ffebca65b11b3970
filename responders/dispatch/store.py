"""Every SQL statement of dispatch, whole and named for what it does, behind typed functions.

The other modules of `dispatch/` (and the routers) call these functions and hold no SQL. A
statement may be built at import time from this module's own constants and `states`' sets
(`sql_list`), never from another module's pieces. Parameters are psycopg's `%(name)s`; the
functions take a `Conn` (inside the caller's transaction), a `Database` (one autocommit
statement, or reads at once) or a `Reader` (either).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import orjson

from responders.db.gateway import Conn, Database, Reader
from responders.dispatch.rules import QUALIFIED_FOR, Assignment
from responders.schemas.common import GeoPoint
from responders.schemas.incidents import (
    DuplicateHint,
    EventPublic,
    IncidentDetail,
    IncidentPublic,
)
from responders.states import (
    BUSY,
    COMMITTED,
    ENDED,
    EXPIRABLE,
    OPEN,
    AlertStatus,
    IncidentStatus,
    sql_list,
)

__all__ = [
    "AcceptedCounts",
    "AedSite",
    "CandidateQuery",
    "CandidateRow",
    "IncidentFacts",
    "NewIncident",
    "OpenIncident",
    "OwnAlert",
    "OwnAlertState",
    "Replacements",
    "RouteLegs",
    "StoodDown",
    "WaveIncident",
    "WaveWrite",
    "accepted_counts",
    "add_alert_events",
    "add_event",
    "clear_replacements_due",
    "correct_incident",
    "create_report",
    "duplicate_hints",
    "enqueue_stand_down_pushes",
    "enqueue_update_pushes",
    "events_after",
    "expire_unanswered_alerts",
    "flag_flood_area",
    "forget_routes",
    "incident_view",
    "list_incidents",
    "live_candidates",
    "lock_due_wave",
    "lock_incident_facts",
    "lock_incident_for_wave",
    "lock_incident_status",
    "lock_own_alert",
    "lock_replacements_due",
    "mark_stood_down",
    "old_open_incidents",
    "own_alerts",
    "placed_candidates",
    "restart_alert_caps",
    "routes_missing",
    "set_alert_status",
    "set_end_reason",
    "set_incident_status",
    "stand_down_failed",
    "stop_waves",
    "store_route",
    "usable_aeds",
    "withdraw_unsent_pushes",
    "write_first_wave",
    "write_wave",
]


# ============================================================================ candidates
# Eligibility (DESIGN.md §4) is decided in SQL, before anything is ranked: active and not
# paused; a qualification for the incident kind that has not expired; available now at the
# position used (a fresh live location, or a registered place inside one of its windows);
# not busy on another open incident; under the daily alert cap; not alerted for this one yet.
#
# Distances are on the sphere (`use_spheroid => false`): within a wave's radius it differs
# from the spheroid by under 0.5 %, the walking time decides the ranking anyway, and it
# took a quarter off the query (bench/bench_dispatch.py).
# Each half filters before its LIMIT, so the KNN scan stops after `limit` eligible rows.
# "Busy" is its own probe so it reads the partial index of alerts still in play
# (`alerts_busy_idx`), never a volunteer's whole history: its statuses must stay those of
# the index's predicate (migration 0005; `states.BUSY`, pinned by a test), or the planner
# can no longer use it. They are literals made from the sets, not bound arrays, so that the
# statement and its generic plan stay exactly what they were. A volunteer who has arrived
# is on scene, and busy as much as one on the way. `pos` is the position row of the half.


@dataclass(frozen=True, slots=True)
class CandidateQuery:
    incident_id: int
    kind: str
    lat: float
    lon: float
    radius_m: float
    limit: int
    minute_of_week: int
    live_max_age_s: int
    daily_cap: int


# (responder_id, source, lat, lon, straight_m, alert_seq): tuples, read in binary, as a
# first wave reads a few hundred of them on the hot path.
CandidateRow = tuple[int, str, float, float, float, int]

_HERE = "WITH here AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography AS g)"
_ELIGIBLE = f"""
    JOIN responders r ON r.id = pos.responder_id
    WHERE ST_DWithin(pos.location, (SELECT g FROM here), %(radius)s, false)
      AND (r.status = 'active' OR (r.paused_until IS NOT NULL AND r.paused_until <= now()))
      AND EXISTS (SELECT 1 FROM qualifications q WHERE q.responder_id = r.id
                  AND q.kind = ANY(%(kinds)s) AND q.expires_on >= current_date)
      AND NOT EXISTS (SELECT 1 FROM alerts a
                      WHERE a.incident_id = %(incident)s AND a.responder_id = r.id)
      AND NOT EXISTS (SELECT 1 FROM alerts a JOIN incidents i ON i.id = a.incident_id
                      WHERE a.responder_id = r.id
                        AND a.status IN ({sql_list(BUSY)})
                        AND i.status IN ({sql_list(OPEN)}))
      AND (SELECT count(*) FROM alerts a WHERE a.responder_id = r.id
           AND a.created_at > greatest(now() - interval '1 day', r.alert_cap_since)) < %(cap)s
"""  # noqa: S608 - the lists are made from the state names, never from input

# The nearest eligible volunteers by their fresh live location (younger than the region's
# setting), nearest first.
_LIVE_CANDIDATES = f"""
    {_HERE}
    SELECT pos.responder_id, 'live' AS source,
           ST_Y(pos.location::geometry) AS lat, ST_X(pos.location::geometry) AS lon,
           ST_Distance(pos.location, (SELECT g FROM here), false) AS straight_m,
           r.alert_seq
    FROM live_locations pos {_ELIGIBLE}
      AND pos.updated_at > now() - make_interval(secs => %(max_age)s)
    ORDER BY pos.location <-> (SELECT g FROM here) LIMIT %(limit)s
"""  # noqa: S608 - constants only; every value is a bound parameter

# The nearest eligible volunteers by a registered place inside one of its windows now. A
# volunteer with a fresh live location is there, not at home or at work. That test is a
# scalar subquery, not NOT EXISTS, on purpose: the planner then runs it inside the index
# scan, before the eligibility joins. As an anti-join the (generic, prepared) plan ran it
# last, so the places of the half of volunteers who are out went through every other probe
# first; this way the half costs a quarter less (bench/bench_dispatch.py).
_PLACED_CANDIDATES = f"""
    {_HERE}
    SELECT pos.responder_id, pos.kind AS source,
           ST_Y(pos.location::geometry) AS lat, ST_X(pos.location::geometry) AS lon,
           ST_Distance(pos.location, (SELECT g FROM here), false) AS straight_m,
           r.alert_seq
    FROM places pos {_ELIGIBLE}
      AND pos.available @> CAST(%(minute)s AS integer)
      AND NOT coalesce((SELECT l.updated_at > now() - make_interval(secs => %(max_age)s)
                        FROM live_locations l WHERE l.responder_id = pos.responder_id), false)
    ORDER BY pos.location <-> (SELECT g FROM here) LIMIT %(limit)s
"""  # noqa: S608 - constants only; every value is a bound parameter


def _candidate_params(query: CandidateQuery) -> dict[str, Any]:
    return {
        "lat": query.lat,
        "lon": query.lon,
        "radius": query.radius_m,
        "limit": query.limit,
        "kinds": sorted(QUALIFIED_FOR[query.kind]),
        "incident": query.incident_id,
        "cap": query.daily_cap,
        "minute": query.minute_of_week,
        "max_age": query.live_max_age_s,
    }


async def live_candidates(reader: Reader, query: CandidateQuery) -> list[CandidateRow]:
    """The `query.limit` nearest eligible volunteers by live location, nearest first."""
    rows = await reader.tuples(_LIVE_CANDIDATES, _candidate_params(query), binary=True)
    return cast("list[CandidateRow]", rows)


async def placed_candidates(reader: Reader, query: CandidateQuery) -> list[CandidateRow]:
    """The `query.limit` nearest eligible volunteers by a place available now."""
    rows = await reader.tuples(_PLACED_CANDIDATES, _candidate_params(query), binary=True)
    return cast("list[CandidateRow]", rows)


@dataclass(frozen=True, slots=True)
class AedSite:
    id: int
    lat: float
    lon: float
    straight_m: float


_USABLE_AEDS = f"""
    {_HERE}
    SELECT a.id, ST_Y(a.location::geometry) AS lat, ST_X(a.location::geometry) AS lon,
           ST_Distance(a.location, (SELECT g FROM here), false) AS straight_m
    FROM aeds a
    WHERE a.status = 'in_service'
      AND (a.access = 'public' OR a.open_minutes @> CAST(%(minute)s AS integer))
      AND ST_DWithin(a.location, (SELECT g FROM here), %(radius)s, false)
    ORDER BY a.location <-> (SELECT g FROM here)
    LIMIT %(limit)s
"""  # noqa: S608 - constants only


async def usable_aeds(
    reader: Reader,
    *,
    lat: float,
    lon: float,
    radius_m: float,
    minute_of_week: int,
    limit: int,
) -> list[AedSite]:
    """AEDs usable now (in service; public, or open at this minute), nearest first."""
    params = {"lat": lat, "lon": lon, "radius": radius_m, "minute": minute_of_week, "limit": limit}
    rows = await reader.tuples(_USABLE_AEDS, params, binary=True)
    return [AedSite(r[0], r[1], r[2], float(r[3])) for r in rows]


# ============================================================================ waves


@dataclass(frozen=True, slots=True)
class NewIncident:
    kind: str
    lat: float
    lon: float
    address: str | None
    notes: str | None
    source: str
    callback_phone: str | None = None
    reported_by: int | None = None
    # A citizen's report: the digest of the status link only its reporter holds.
    status_digest: bytes | None = None


@dataclass(frozen=True)
class WaveIncident:
    """What a wave reads of its incident (`lock_incident_for_wave`, or a new one's draft)."""

    id: int
    kind: str
    status: str
    wave: int
    radius_m: float
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class WaveWrite:
    """What a wave writes: its number and radius, its alerts (in `assignments`' order), its
    own timeline event, and whether its timer is set for another wave."""

    wave: int
    radius_m: float
    assignments: Sequence[Assignment]
    event: str  # "wave_started", or "replacement" for a top-up
    detail: Mapping[str, object]  # the event's detail; `alerted` and `taken_meanwhile` added
    alert_ttl_s: int
    more: bool  # another wave may follow: its timer is set
    wave_timeout_s: float


_LOCK_INCIDENT_FOR_WAVE = """
    SELECT id, kind, status, wave, radius_m, ST_Y(location::geometry) AS lat,
           ST_X(location::geometry) AS lon
    FROM incidents WHERE id = %(id)s FOR UPDATE
"""


async def lock_incident_for_wave(conn: Conn, incident_id: int) -> WaveIncident:
    """The incident a later wave runs for, locked for the caller's transaction."""
    return WaveIncident(**await conn.one(_LOCK_INCIDENT_FOR_WAVE, {"id": incident_id}))


# A wave's write, in the statements below, is one round trip: the alerts, their outbox rows
# (nearest first, so the push worker sends them in that order), one timeline event per alert
# and the wave's own event after them (one INSERT keeps that order in the ids).
#
# `_LOCKED`: the chosen volunteers whose version is still the one read with the candidates,
# their rows locked and the version bumped, so that no other wave can alert them too. The
# locks are taken in id order, so two waves wanting the same volunteers never deadlock. A
# row bumped by a wave that committed before this statement began no longer matches; one
# being bumped by a wave still running makes this wait for it (a few milliseconds: one
# statement, or a later wave's transaction), and READ COMMITTED then re-checks the join on
# the row's newest version (EvalPlanQual), which no longer matches either. NO KEY UPDATE,
# the lock an UPDATE of a non-key column takes, leaves the foreign-key checks of other
# writers (their alerts, live locations, places of these volunteers) unblocked. `_LOST` is
# how many the wave planned but could not have.
_LOCKED = """
    locked AS MATERIALIZED (
        SELECT r.id FROM responders r
        JOIN unnest(CAST(%(responders)s AS bigint[]), CAST(%(seqs)s AS bigint[])) AS c(id, seq)
          ON r.id = c.id AND r.alert_seq = c.seq
        ORDER BY r.id
        FOR NO KEY UPDATE OF r
    ), bumped AS (
        UPDATE responders r SET alert_seq = r.alert_seq + 1
        FROM locked l WHERE r.id = l.id
        RETURNING r.id
    )"""
_LOST = "(cardinality(CAST(%(responders)s AS bigint[])) - (SELECT count(*) FROM bumped))"
# The alerts of the volunteers locked and unchanged (`_LOCKED`, which must come before) for
# the statement's `incident_row`, and their outbox rows; conflicts (already alerted) are
# skipped and not counted.
_ALERT_ROWS = """
    alert_rows AS (
        INSERT INTO alerts (incident_id, responder_id, wave, role, aed_id, walk_seconds,
                            straight_m, origin, expires_at)
        SELECT (SELECT id FROM incident_row), t.responder, %(wave)s, t.role, t.aed, t.walk,
               t.straight, ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326)::geography,
               now() + make_interval(secs => %(ttl)s)
        FROM unnest(CAST(%(responders)s AS bigint[]), CAST(%(roles)s AS text[]),
                    CAST(%(aeds)s AS bigint[]), CAST(%(walks)s AS real[]),
                    CAST(%(straights)s AS real[]), CAST(%(lons)s AS float8[]),
                    CAST(%(lats)s AS float8[]))
             AS t(responder, role, aed, walk, straight, lon, lat)
        WHERE t.responder IN (SELECT id FROM bumped)
        ORDER BY t.walk
        ON CONFLICT (incident_id, responder_id) DO NOTHING
        RETURNING *
    ), queued AS (
        INSERT INTO outbox (alert_id, kind, expires_at)
        SELECT id, 'alert', expires_at FROM alert_rows ORDER BY walk_seconds, id
    )"""
# The wave's own event: what it was asked (`detail`), how many it alerted, how many other
# waves took meanwhile.
_WAVE_EVENT = f"""
            SELECT 1, NULL, CAST(%(event)s AS text),
                   CAST(%(detail)s AS jsonb)
                   || jsonb_build_object('alerted', (SELECT count(*) FROM alert_rows),
                                         'taken_meanwhile', {_LOST})"""  # noqa: S608
_NEXT_WAVE_AT = "CASE WHEN %(more)s THEN now() + make_interval(secs => %(timeout)s) END"

# A later wave, in the caller's transaction. It also moves its incident on when it widens
# (the wave, the radius, the next timer), and counts the volunteers other waves took
# meanwhile as replacements due (`timers` tops them up). One UPDATE does both: two on one
# row in one statement would leave only one of them. Returns the new alerts' ids.
_WRITE_WAVE = f"""
    WITH incident_row AS (SELECT CAST(%(incident)s AS bigint) AS id),
    {_LOCKED}, {_ALERT_ROWS}, event_rows AS (
        INSERT INTO incident_events (incident_id, alert_id, kind, detail)
        SELECT (SELECT id FROM incident_row), e.alert_id, e.kind, e.detail
        FROM (
            SELECT 0 AS n, id AS alert_id, 'alert_queued' AS kind,
                   jsonb_build_object('status', status, 'role', role) AS detail
            FROM alert_rows
            UNION ALL {_WAVE_EVENT}
        ) e
        ORDER BY e.n, e.alert_id
    ), moved AS (
        UPDATE incidents SET
            wave = CASE WHEN %(widen)s THEN %(wave)s ELSE wave END,
            radius_m = CASE WHEN %(widen)s THEN %(radius)s ELSE radius_m END,
            updated_at = CASE WHEN %(widen)s THEN now() ELSE updated_at END,
            next_wave_at = CASE WHEN %(widen)s THEN {_NEXT_WAVE_AT} ELSE next_wave_at END,
            replacements_due = replacements_due + {_LOST}
        WHERE id = %(incident)s AND (%(widen)s OR {_LOST} > 0)
    )
    SELECT id FROM alert_rows ORDER BY walk_seconds, id
"""  # noqa: S608 - constants only; every value is a bound parameter

# The operator view of an incident as one SELECT over three row sources that the statement
# defines: `incident_row` (one row), `alert_rows` and `event_rows`. The alerts, their AEDs
# and the timeline come back as JSON arrays.
_INCIDENT_COLUMNS = """
    i.id, i.kind, ST_X(i.location::geometry) AS lon, ST_Y(i.location::geometry) AS lat,
    i.address, i.notes, i.source, i.status, i.callback_phone, i.wave, i.radius_m,
    i.next_wave_at, i.created_at, i.updated_at, i.ended_at, i.flood_group, i.end_reason,
    i.end_note
"""
_LIVE_SHOWN = f"""a.status = '{AlertStatus.ACCEPTED}' AND i.status IN ({sql_list(OPEN)})
                   AND l.updated_at > acc.accepted_at"""
# What the console needs at a glance (issue 14): when each volunteer accepted (their ETA
# counts from it), the phone of those on the way while the incident is open (enforced
# here, not in the page), and their live position when it is newer than the acceptance.
_GLANCE_COLUMNS = f"""
                 acc.accepted_at,
                 CASE WHEN a.status IN ({sql_list(COMMITTED)})
                       AND i.status IN ({sql_list(OPEN)}) THEN r.phone END AS phone,
                 CASE WHEN {_LIVE_SHOWN} THEN json_build_object('type', 'Point',
                   'coordinates', json_build_array(ST_X(l.location::geometry),
                                                   ST_Y(l.location::geometry))) END AS live,
                 CASE WHEN {_LIVE_SHOWN} THEN l.updated_at END AS live_at"""
_GLANCE_JOINS = """
          LEFT JOIN (SELECT ev.alert_id, max(ev.created_at) AS accepted_at FROM event_rows ev
                     WHERE ev.kind = 'alert_accepted' GROUP BY ev.alert_id) acc
            ON acc.alert_id = a.id
          LEFT JOIN live_locations l ON l.responder_id = a.responder_id"""
_OPERATOR_VIEW = f"""
    SELECT {_INCIDENT_COLUMNS},
      (SELECT coalesce(json_agg(x ORDER BY x.walk_seconds, x.id), '[]') FROM (
          SELECT a.id, a.responder_id, r.name AS responder_name, a.wave, a.role, a.aed_id,
                 a.walk_seconds, a.straight_m, a.status, a.stand_down_reason,
                 a.fcm_message_id, a.push_error,
                 CASE WHEN a.origin IS NOT NULL THEN json_build_object('type', 'Point',
                   'coordinates', json_build_array(ST_X(a.origin::geometry),
                                                   ST_Y(a.origin::geometry))) END AS origin,
                 a.route, a.expires_at, a.created_at, a.updated_at, {_GLANCE_COLUMNS}
          FROM alert_rows a LEFT JOIN responders r ON r.id = a.responder_id
          {_GLANCE_JOINS}) x) AS alerts,
      (SELECT coalesce(json_agg(y ORDER BY y.id), '[]') FROM (
          SELECT ae.id,
                 CASE WHEN ae.location IS NOT NULL THEN json_build_object('type', 'Point',
                   'coordinates', json_build_array(ST_X(ae.location::geometry),
                                                   ST_Y(ae.location::geometry))) END
                   AS location,
                 ae.address, ae.description, ae.access
          FROM aeds ae WHERE ae.id IN (SELECT a.aed_id FROM alert_rows a)) y) AS aeds,
      (SELECT coalesce(json_agg(e ORDER BY e.id), '[]') FROM (
          SELECT ev.id, ev.kind, ev.alert_id, ev.detail, ev.created_at
          FROM event_rows ev) e) AS timeline
    FROM incident_row i
"""  # noqa: S608 - constants only; every value is a bound parameter

# A new incident and its first wave, in one autocommit statement (one round trip, no
# BEGIN/COMMIT): the incident at its first wave (owing replacements for volunteers taken
# meanwhile), its "reported" event before the alerts' events, and the operator view as
# committed (its own rows are visible to it only through the CTEs).
_WRITE_FIRST_WAVE = f"""
    WITH {_LOCKED}, incident_row AS (
        INSERT INTO incidents (kind, location, address, notes, source, status, callback_phone,
                               reported_by, wave, radius_m, next_wave_at, replacements_due)
        VALUES (%(kind)s, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography,
                %(address)s, %(notes)s, %(source)s, %(status)s, %(callback_phone)s,
                %(reported_by)s, %(wave)s, %(radius)s, {_NEXT_WAVE_AT}, {_LOST})
        RETURNING *
    ), {_ALERT_ROWS}, event_rows AS (
        INSERT INTO incident_events (incident_id, alert_id, kind, detail)
        SELECT (SELECT id FROM incident_row), e.alert_id, e.kind, e.detail
        FROM (
            SELECT -1 AS n, NULL::bigint AS alert_id, 'reported' AS kind,
                   CAST(%(reported)s AS jsonb) AS detail
            UNION ALL
            SELECT 0, id, 'alert_queued', jsonb_build_object('status', status, 'role', role)
            FROM alert_rows
            UNION ALL {_WAVE_EVENT}
        ) e
        ORDER BY e.n, e.alert_id
        RETURNING *
    )
    {_OPERATOR_VIEW}
"""  # noqa: S608 - constants only; every value is a bound parameter

# Only a race can fail a first wave: a volunteer or an AED removed while it was planned.
_RACED = "a volunteer or an AED was removed while dispatching: send the incident again"


def _wave_params(write: WaveWrite) -> dict[str, object]:
    chosen = write.assignments
    return {
        "responders": [a.candidate.responder_id for a in chosen],
        "seqs": [a.candidate.seq for a in chosen],
        "roles": [a.role for a in chosen],
        "aeds": [a.aed.id if a.aed else None for a in chosen],
        "walks": [round(a.arrival_s, 1) for a in chosen],
        "straights": [round(a.candidate.straight_m, 1) for a in chosen],
        "lons": [a.candidate.lon for a in chosen],
        "lats": [a.candidate.lat for a in chosen],
        "wave": write.wave,
        "radius": write.radius_m,
        "ttl": write.alert_ttl_s,
        "event": write.event,
        "detail": orjson.dumps(write.detail).decode(),
        "more": write.more,
        "timeout": write.wave_timeout_s,
    }


def _incident_params(new: NewIncident, status: IncidentStatus) -> dict[str, object]:
    """A new incident's own columns, and its "reported" event's detail."""
    return {
        "kind": new.kind,
        "lat": new.lat,
        "lon": new.lon,
        "address": new.address,
        "notes": new.notes,
        "source": new.source,
        "status": status.value,
        "callback_phone": new.callback_phone,
        "reported_by": new.reported_by,
        "status_digest": new.status_digest,
        "reported": orjson.dumps({"source": new.source, "status": status.value}).decode(),
    }


async def write_wave(conn: Conn, incident_id: int, write: WaveWrite, *, widen: bool) -> list[int]:
    """A later wave's alerts (or a top-up's, `widen=False`), in the caller's transaction;
    the ids of the alerts written, nearest first."""
    params = {**_wave_params(write), "incident": incident_id, "widen": widen}
    return [int(i) for i in await conn.column(_WRITE_WAVE, params)]


async def write_first_wave(db: Database, new: NewIncident, write: WaveWrite) -> IncidentDetail:
    """An operator's incident, active, with its first wave, committed as one statement; the
    operator view as committed."""
    params = {**_wave_params(write), **_incident_params(new, IncidentStatus.ACTIVE)}
    async with db.connection() as conn:
        return _detail(await conn.one(_WRITE_FIRST_WAVE, params, conflict=_RACED))


# ============================================================================ lifecycle

# A citizen's report in triage at wave 0, and its first timeline event, in one round trip:
# no wave, no timer.
_CREATE_REPORT = """
    WITH incident_row AS (
        INSERT INTO incidents (kind, location, address, notes, source, status, callback_phone,
                               reported_by, status_token_hash)
        VALUES (%(kind)s, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography,
                %(address)s, %(notes)s, %(source)s, %(status)s, %(callback_phone)s,
                %(reported_by)s, %(status_digest)s)
        RETURNING id
    ), reported AS (
        INSERT INTO incident_events (incident_id, kind, detail)
        SELECT id, 'reported', CAST(%(reported)s AS jsonb) FROM incident_row
    )
    SELECT id FROM incident_row
"""


async def create_report(conn: Conn, new: NewIncident) -> int:
    """A citizen's report, in triage (in the caller's transaction); its id."""
    return int(await conn.scalar(_CREATE_REPORT, _incident_params(new, IncidentStatus.TRIAGE)))


_LOCK_INCIDENT_STATUS = "SELECT status FROM incidents WHERE id = %(id)s FOR UPDATE"
_SET_INCIDENT_STATUS = f"""
    UPDATE incidents SET status = %(status)s, updated_at = now(), next_wave_at = NULL,
           ended_at = CASE WHEN %(status)s IN ({sql_list(ENDED)}) THEN now() END
    WHERE id = %(id)s
"""  # noqa: S608 - the list is made from the state names, never from input


async def lock_incident_status(conn: Conn, incident_id: int) -> str | None:
    """The incident's status, its row locked for the caller's transaction; None: no such."""
    status = await conn.scalar(_LOCK_INCIDENT_STATUS, {"id": incident_id})
    return None if status is None else str(status)


async def set_incident_status(conn: Conn, incident_id: int, status: IncidentStatus) -> None:
    """Move the incident to `status`; its wave timer stops, an ending stamps `ended_at`."""
    await conn.execute(_SET_INCIDENT_STATUS, {"status": status.value, "id": incident_id})


@dataclass(frozen=True, slots=True)
class OwnAlertState:
    id: int
    status: str
    incident_id: int
    incident_status: str


_LOCK_OWN_ALERT = """
    SELECT a.id, a.status, a.incident_id, i.status AS incident_status
    FROM alerts a JOIN incidents i ON i.id = a.incident_id
    WHERE a.id = %(id)s AND a.responder_id = %(responder)s
    FOR UPDATE OF a
"""
_SET_ALERT_STATUS = "UPDATE alerts SET status = %(status)s, updated_at = now() WHERE id = %(id)s"


async def lock_own_alert(conn: Conn, *, alert_id: int, responder_id: int) -> OwnAlertState | None:
    """A volunteer's own alert and its incident's status, the alert locked; None: no such
    alert of theirs."""
    row = await conn.first(_LOCK_OWN_ALERT, {"id": alert_id, "responder": responder_id})
    return None if row is None else OwnAlertState(**row)


async def set_alert_status(conn: Conn, alert_id: int, status: str) -> None:
    await conn.execute(_SET_ALERT_STATUS, {"status": status, "id": alert_id})


_STOP_WAVES = "UPDATE incidents SET next_wave_at = NULL WHERE id = %(id)s"


async def stop_waves(conn: Conn, incident_id: int) -> None:
    """No further wave for this incident (enough have accepted)."""
    await conn.execute(_STOP_WAVES, {"id": incident_id})


# Failed alerts are stood down without a push: theirs never arrived.
_STAND_DOWN_FAILED = """
    UPDATE alerts SET status = %(stood_down)s, stand_down_reason = 'no_longer_needed',
           updated_at = now()
    WHERE incident_id = %(id)s AND status = %(failed)s
    RETURNING id
"""


async def stand_down_failed(conn: Conn, incident_id: int) -> list[int]:
    """Stand the incident's failed alerts down as no longer needed; their ids."""
    params = {
        "id": incident_id,
        "stood_down": AlertStatus.STOOD_DOWN.value,
        "failed": AlertStatus.FAILED.value,
    }
    return [int(i) for i in await conn.column(_STAND_DOWN_FAILED, params)]


@dataclass(frozen=True, slots=True)
class AcceptedCounts:
    accepted: int  # committed: accepted or arrived
    via: int  # of those, fetching an AED
    via_alerted: int  # alerted to fetch an AED, whatever their answer


_ACCEPTED_COUNTS = """
    SELECT count(*) FILTER (WHERE status = ANY(%(committed)s)) AS accepted,
           count(*) FILTER (WHERE status = ANY(%(committed)s) AND role = 'via_aed') AS via,
           count(*) FILTER (WHERE role = 'via_aed') AS via_alerted
    FROM alerts WHERE incident_id = %(id)s
"""


async def accepted_counts(conn: Conn, incident_id: int) -> AcceptedCounts:
    params = {"id": incident_id, "committed": sorted(s.value for s in COMMITTED)}
    return AcceptedCounts(**await conn.one(_ACCEPTED_COUNTS, params))


# ============================================================================ read models


def _point(lon: float | None, lat: float | None) -> GeoPoint | None:
    return None if lon is None or lat is None else GeoPoint(coordinates=(lon, lat))


def _incident(row: Mapping[str, Any]) -> dict[str, Any]:
    data = dict(row)
    data["location"] = _point(data.pop("lon"), data.pop("lat"))
    data["flood_suspected"] = data["flood_group"] is not None
    return data


def _detail(row: Mapping[str, Any]) -> IncidentDetail:
    return IncidentDetail(**_incident(row))


# Reported in [since, until), either bound open (NULL): the console's lists and the history.
_LIST_INCIDENTS = f"""
    SELECT {_INCIDENT_COLUMNS} FROM incidents i
    WHERE i.status = ANY(%(statuses)s)
      AND (CAST(%(since)s AS timestamptz) IS NULL OR i.created_at >= %(since)s)
      AND (CAST(%(until)s AS timestamptz) IS NULL OR i.created_at < %(until)s)
    ORDER BY i.created_at DESC LIMIT %(limit)s
"""  # noqa: S608 - constants only


async def list_incidents(
    reader: Reader,
    statuses: Sequence[str],
    limit: int,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[IncidentPublic]:
    """Incidents in these statuses reported in [since, until), newest first."""
    params = {"statuses": list(statuses), "since": since, "until": until, "limit": limit}
    return [IncidentPublic(**_incident(r)) for r in await reader.rows(_LIST_INCIDENTS, params)]


# One round trip: a console polls it. The row sources are inlined, as subqueries would be.
_INCIDENT_VIEW = f"""
    WITH incident_row AS NOT MATERIALIZED (SELECT * FROM incidents WHERE id = %(id)s),
         alert_rows AS NOT MATERIALIZED (SELECT * FROM alerts WHERE incident_id = %(id)s),
         event_rows AS NOT MATERIALIZED (
             SELECT * FROM incident_events WHERE incident_id = %(id)s)
    {_OPERATOR_VIEW}
"""  # noqa: S608 - constants only


async def incident_view(reader: Reader, incident_id: int) -> IncidentDetail | None:
    """The operator view of an incident (as a first wave answers it); None: no such."""
    rows = await reader.rows(_INCIDENT_VIEW, {"id": incident_id})
    return _detail(rows[0]) if rows else None


_EVENTS_AFTER = """
    SELECT id, kind, alert_id, detail, created_at FROM incident_events
    WHERE incident_id = %(id)s AND id > %(after)s ORDER BY id
"""


async def events_after(reader: Reader, incident_id: int, after_id: int) -> list[EventPublic]:
    """The incident's timeline events after `after_id`, in order."""
    rows = await reader.rows(_EVENTS_AFTER, {"id": incident_id, "after": after_id})
    return [EventPublic(**r) for r in rows]


@dataclass(frozen=True, slots=True)
class OwnAlert:
    """A volunteer's alert with its incident and AED, as stored: what they may see of it
    is `views`' decision."""

    id: int
    status: str
    role: str
    wave: int
    walk_seconds: float
    stand_down_reason: str | None
    expires_at: dt.datetime
    created_at: dt.datetime
    route: dict[str, Any] | None
    aed_id: int | None
    incident_id: int
    kind: str
    incident_status: str
    address: str | None
    notes: str | None
    end_reason: str | None
    lon: float
    lat: float
    aed_lon: float | None
    aed_lat: float | None
    aed_address: str | None
    aed_description: str | None
    cabinet_code: str | None


_OWN_ALERTS = """
    SELECT a.id, a.status, a.role, a.wave, a.walk_seconds, a.stand_down_reason, a.expires_at,
           a.created_at, a.route, a.aed_id,
           i.id AS incident_id, i.kind, i.status AS incident_status, i.address, i.notes,
           i.end_reason, ST_X(i.location::geometry) AS lon, ST_Y(i.location::geometry) AS lat,
           ST_X(ae.location::geometry) AS aed_lon, ST_Y(ae.location::geometry) AS aed_lat,
           ae.address AS aed_address, ae.description AS aed_description, ae.cabinet_code
    FROM alerts a JOIN incidents i ON i.id = a.incident_id
    LEFT JOIN aeds ae ON ae.id = a.aed_id
    WHERE a.responder_id = %(responder)s
      AND (CAST(%(alert)s AS bigint) IS NULL OR a.id = %(alert)s)
    ORDER BY a.created_at DESC LIMIT 50
"""


async def own_alerts(
    reader: Reader, responder_id: int, alert_id: int | None = None
) -> list[OwnAlert]:
    """A volunteer's alerts, newest first (the latest 50); or only `alert_id` of theirs."""
    rows = await reader.rows(_OWN_ALERTS, {"responder": responder_id, "alert": alert_id})
    return [OwnAlert(**r) for r in rows]


@dataclass(frozen=True, slots=True)
class RouteLegs:
    """Where an alert's route goes: from the volunteer, via its AED when fetching one, to
    the incident."""

    alert_id: int
    lat: float
    lon: float
    incident_lat: float
    incident_lon: float
    via_lat: float | None
    via_lon: float | None


_ROUTES_MISSING = """
    SELECT a.id AS alert_id, ST_Y(a.origin::geometry) AS lat, ST_X(a.origin::geometry) AS lon,
           ST_Y(i.location::geometry) AS incident_lat, ST_X(i.location::geometry) AS incident_lon,
           ST_Y(ae.location::geometry) AS via_lat, ST_X(ae.location::geometry) AS via_lon
    FROM alerts a JOIN incidents i ON i.id = a.incident_id
    LEFT JOIN aeds ae ON ae.id = a.aed_id AND a.role = 'via_aed'
    WHERE a.id = ANY(%(ids)s) AND a.route IS NULL AND a.origin IS NOT NULL
"""
_STORE_ROUTE = "UPDATE alerts SET route = CAST(%(route)s AS jsonb) WHERE id = %(id)s"


async def routes_missing(db: Database, alert_ids: Sequence[int]) -> list[RouteLegs]:
    """Of these alerts, those with an origin and no route yet."""
    rows = await db.rows(_ROUTES_MISSING, {"ids": list(alert_ids)})
    return [RouteLegs(**r) for r in rows]


async def store_route(db: Database, alert_id: int, geojson: Mapping[str, Any]) -> None:
    """An alert's route, committed on its own (one row: never in a lock cycle with the push
    worker, which updates the same alerts)."""
    await db.execute(_STORE_ROUTE, {"id": alert_id, "route": orjson.dumps(geojson).decode()})


# ---- timers, stand-downs, the timeline, floods, demo upkeep (D2)


# --- timers (`dispatch.timers`) --------------------------------------------------------

# The list is a literal (made from the set) so that every plan can read the partial index
# of pending alerts, whose predicate is `EXPIRABLE` (alerts_pending_idx, migration 0002).
_EXPIRE_UNANSWERED_ALERTS = f"""
    UPDATE alerts SET status = %(expired)s, updated_at = now()
    WHERE status IN ({sql_list(EXPIRABLE)}) AND expires_at <= now()
    RETURNING id
    """  # noqa: S608 - the list is made from the state names, never from input
# Any number of processes run the timers: SKIP LOCKED hands each due incident to one.
_LOCK_DUE_WAVE = f"""
    SELECT id FROM incidents
    WHERE status = '{IncidentStatus.ACTIVE}' AND next_wave_at <= now()
    ORDER BY next_wave_at LIMIT 1
    FOR UPDATE SKIP LOCKED
    """  # noqa: S608 - the status is the state machine's name
_LOCK_REPLACEMENTS_DUE = f"""
    SELECT id, replacements_due FROM incidents
    WHERE status = '{IncidentStatus.ACTIVE}' AND replacements_due > 0
    LIMIT 1 FOR UPDATE SKIP LOCKED
    """  # noqa: S608 - the status is the state machine's name
_CLEAR_REPLACEMENTS_DUE = "UPDATE incidents SET replacements_due = 0 WHERE id = %(id)s"


@dataclass(frozen=True, slots=True)
class Replacements:
    """An active incident owed `due` volunteers for alerts whose push failed."""

    incident_id: int
    due: int


async def expire_unanswered_alerts(conn: Conn) -> list[int]:
    """Alerts unanswered past their deadline become `expired`; their ids."""
    return await conn.column(_EXPIRE_UNANSWERED_ALERTS, {"expired": AlertStatus.EXPIRED.value})


async def lock_due_wave(conn: Conn) -> int | None:
    """The active incident whose next wave is due longest, locked; None when none is due
    (or every due one is being handled by another process)."""
    incident_id = await conn.scalar(_LOCK_DUE_WAVE)
    return None if incident_id is None else int(incident_id)


async def lock_replacements_due(conn: Conn) -> Replacements | None:
    """An active incident owed replacements, locked; None when none is (or free)."""
    row = await conn.first(_LOCK_REPLACEMENTS_DUE)
    return None if row is None else Replacements(row["id"], row["replacements_due"])


async def clear_replacements_due(conn: Conn, incident_id: int) -> None:
    await conn.execute(_CLEAR_REPLACEMENTS_DUE, {"id": incident_id})


# --- stand-downs (`dispatch.standdown`) ------------------------------------------------

_MARK_STOOD_DOWN = """
    WITH target AS (
        SELECT id, status FROM alerts
        WHERE incident_id = %(incident)s AND status = ANY(%(states)s) FOR UPDATE
    )
    UPDATE alerts a SET status = %(stood_down)s, stand_down_reason = %(reason)s,
           updated_at = now()
    FROM target t WHERE a.id = t.id
    RETURNING a.id, t.status AS before
    """
# A queued alert whose push never left is simply withdrawn. If the row is gone (sent), leased
# by a worker (on the wire right now) or was sent once without FCM confirming it, the phone
# may show the alert: its row goes too, and the volunteer is stood down. Locks: the incident
# (lifecycle), then these alerts (`_MARK_STOOD_DOWN`), then their outbox rows, the worker's
# order too.
_WITHDRAW_ALERT_PUSHES = """
    DELETE FROM outbox WHERE alert_id = ANY(%(ids)s) AND kind = 'alert'
    RETURNING alert_id, leased_until IS NULL AND unconfirmed = 0 AS never_left
    """
_ENQUEUE_STAND_DOWN_PUSHES = """
    INSERT INTO outbox (alert_id, kind, expires_at)
    SELECT id, %(kind)s, now() + make_interval(secs => %(ttl)s)
    FROM alerts WHERE id = ANY(%(ids)s)
    """


@dataclass(frozen=True, slots=True)
class StoodDown:
    """An alert just stood down, and the state it was in before."""

    alert_id: int
    before: AlertStatus


async def mark_stood_down(
    conn: Conn, *, incident_id: int, states: frozenset[AlertStatus], reason: str
) -> list[StoodDown]:
    """The incident's alerts in `states` become `stood_down` for `reason` (locked first)."""
    params = {
        "incident": incident_id,
        "states": sorted(s.value for s in states),
        "reason": reason,
        "stood_down": AlertStatus.STOOD_DOWN.value,
    }
    rows = await conn.rows(_MARK_STOOD_DOWN, params)
    return [StoodDown(row["id"], AlertStatus(row["before"])) for row in rows]


async def withdraw_unsent_pushes(conn: Conn, alert_ids: list[int]) -> set[int]:
    """Drops these alerts' pushes from the outbox; the alerts whose push never left."""
    rows = await conn.rows(_WITHDRAW_ALERT_PUSHES, {"ids": alert_ids})
    return {row["alert_id"] for row in rows if row["never_left"]}


async def enqueue_stand_down_pushes(
    conn: Conn, *, alert_ids: list[int], kind: str, ttl_s: int
) -> None:
    """A push of `kind` (`stand_down` or `no_longer_needed`) for each of these alerts."""
    await conn.execute(_ENQUEUE_STAND_DOWN_PUSHES, {"ids": alert_ids, "kind": kind, "ttl": ttl_s})


# --- the timeline (`dispatch.timeline`) ------------------------------------------------

# Inserting an event also notifies `incident_events` (a trigger), which feeds live views.
_ADD_EVENT = """
    INSERT INTO incident_events (incident_id, alert_id, kind, detail)
    VALUES (%(incident)s, %(alert)s, %(kind)s, CAST(%(detail)s AS jsonb))
    """
_ADD_ALERT_EVENTS = """
    INSERT INTO incident_events (incident_id, alert_id, kind, detail)
    SELECT a.incident_id, a.id, %(kind)s, jsonb_build_object('status', a.status, 'role', a.role)
    FROM alerts a WHERE a.id = ANY(%(ids)s) ORDER BY a.id
    """


async def add_event(
    conn: Conn, *, incident_id: int, kind: str, alert_id: int | None, detail: Mapping[str, Any]
) -> None:
    params = {
        "incident": incident_id,
        "alert": alert_id,
        "kind": kind,
        "detail": orjson.dumps(detail).decode(),
    }
    await conn.execute(_ADD_EVENT, params)


async def add_alert_events(conn: Conn, *, alert_ids: list[int], kind: str) -> None:
    """One event per alert (its status and role now), in one statement."""
    await conn.execute(_ADD_ALERT_EVENTS, {"ids": alert_ids, "kind": kind})


# --- floods of citizen reports (`responders.floods`) -----------------------------------

# Reports of one area come in at once and each flags the others: rows another report (or
# an operator) holds are skipped, not waited for, so two flags never deadlock; whoever holds
# them flags them with the same key, or is confirming them.
_FLAG_FLOOD_AREA = f"""
    UPDATE incidents SET flood_group = %(group)s
    WHERE id IN (
        SELECT id FROM incidents
        WHERE source = 'citizen' AND status = '{IncidentStatus.TRIAGE}' AND flood_group IS NULL
          AND (id = %(id)s OR (created_at > now() - make_interval(secs => %(window)s)
               AND floor(ST_Y(location::geometry) / %(cell)s) = %(row)s
               AND floor(ST_X(location::geometry) / %(cell)s) = %(col)s))
        FOR UPDATE SKIP LOCKED)
    """  # noqa: S608 - the status is the state machine's name


async def flag_flood_area(
    conn: Conn,
    *,
    incident_id: int,
    group: str,
    cell_deg: float,
    row: int,
    col: int,
    window_s: int,
) -> None:
    """Report `incident_id`, and the citizen reports in triage from the last `window_s` in
    grid cell (`row`, `col`) of `cell_deg` degrees, join flood group `group`."""
    params = {
        "group": group,
        "id": incident_id,
        "window": window_s,
        "cell": cell_deg,
        "row": row,
        "col": col,
    }
    await conn.execute(_FLAG_FLOOD_AREA, params)


# --- demo upkeep (`responders.demo_upkeep`) --------------------------------------------

# A literal list, the predicate of `incidents_open_idx` (status, created_at; migration 0002).
_OLD_OPEN_INCIDENTS = f"""
    SELECT id, status FROM incidents
    WHERE status IN ({sql_list(OPEN)})
      AND created_at <= now() - make_interval(secs => %(age)s)
    ORDER BY id
    """  # noqa: S608 - the list is made from the state names, never from input
_RESTART_ALERT_CAPS = """
    UPDATE responders SET alert_cap_since = now(), updated_at = now()
    WHERE email LIKE '%%@' || %(domain)s
    """


@dataclass(frozen=True, slots=True)
class OpenIncident:
    id: int
    status: str


async def old_open_incidents(reader: Reader, max_age_s: float) -> list[OpenIncident]:
    """Open incidents reported at least `max_age_s` ago, oldest id first."""
    rows = await reader.rows(_OLD_OPEN_INCIDENTS, {"age": max_age_s})
    return [OpenIncident(row["id"], row["status"]) for row in rows]


async def restart_alert_caps(db: Database, domain: str) -> int:
    """The daily alert cap of every volunteer with an e-mail address at `domain` counts
    from now; how many volunteers."""
    return await db.execute(_RESTART_ALERT_CAPS, {"domain": domain})


# --- the console at a glance (issue 14, B2): duplicate hints of the triage queue --------

# Every other incident near one of `ids` in place and time: a citizen report (whatever
# became of it) or an open incident. The window is symmetric (the first of two reports
# hints at the second too); `incidents_created_idx` bounds the scan to the window.
_DUPLICATE_HINTS = f"""
    SELECT t.id AS incident_id, o.id, o.source, o.status,
           ST_Distance(o.location, t.location, false) AS distance_m, o.created_at
    FROM incidents t
    JOIN incidents o
      ON o.id <> t.id
     AND o.created_at BETWEEN t.created_at - make_interval(secs => %(window)s)
                          AND t.created_at + make_interval(secs => %(window)s)
     AND ST_DWithin(o.location, t.location, %(radius)s, false)
     AND (o.source = 'citizen' OR o.status IN ({sql_list(OPEN)}))
    WHERE t.id = ANY(%(ids)s)
    ORDER BY t.id, o.created_at, o.id
"""  # noqa: S608 - the list is made from the state names, never from input


async def duplicate_hints(
    reader: Reader, incident_ids: Sequence[int], *, radius_m: float, window_s: int
) -> dict[int, list[DuplicateHint]]:
    """incident id -> the hints at its duplicates, oldest first (ids without any: absent)."""
    params = {"ids": list(incident_ids), "radius": radius_m, "window": window_s}
    hints: dict[int, list[DuplicateHint]] = {}
    for row in await reader.rows(_DUPLICATE_HINTS, params):
        data = dict(row)
        hints.setdefault(data.pop("incident_id"), []).append(DuplicateHint(**data))
    return hints


# ---- how an incident ended, and corrections to it -------------------------------------

# --- why an incident ended (`dispatch.lifecycle.close_incident`) -----------------------
_SET_END_REASON = """
    UPDATE incidents SET end_reason = %(reason)s, end_note = %(note)s WHERE id = %(id)s
    """


async def set_end_reason(conn: Conn, incident_id: int, reason: str, note: str | None) -> None:
    """Why the incident was closed or cancelled, and the operator's note."""
    await conn.execute(_SET_END_REASON, {"id": incident_id, "reason": reason, "note": note})


# --- an operator's correction (`dispatch.corrections`) ---------------------------------
_LOCK_INCIDENT_FOR_CORRECTION = """
    SELECT status, address, notes, ST_Y(location::geometry) AS lat,
           ST_X(location::geometry) AS lon
    FROM incidents WHERE id = %(id)s FOR UPDATE
    """
_CORRECT_INCIDENT = """
    UPDATE incidents SET location = ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography,
           address = %(address)s, notes = %(notes)s, updated_at = now()
    WHERE id = %(id)s
    """
# The stored routes lead to the old pin: they are drawn again, to the new one, when read.
_FORGET_ROUTES = "UPDATE alerts SET route = NULL WHERE incident_id = %(id)s AND route IS NOT NULL"
_ENQUEUE_UPDATE_PUSHES = """
    INSERT INTO outbox (alert_id, kind, expires_at)
    SELECT id, 'update', now() + make_interval(secs => %(ttl)s)
    FROM alerts WHERE incident_id = %(id)s AND status = ANY(%(states)s)
    ORDER BY walk_seconds, id
    RETURNING alert_id
    """


@dataclass(frozen=True, slots=True)
class IncidentFacts:
    """What an operator may correct of an incident, as stored, and its status."""

    status: str
    address: str | None
    notes: str | None
    lat: float
    lon: float


async def lock_incident_facts(conn: Conn, incident_id: int) -> IncidentFacts | None:
    """The incident's correctable facts, its row locked for the caller; None: no such."""
    row = await conn.first(_LOCK_INCIDENT_FOR_CORRECTION, {"id": incident_id})
    return None if row is None else IncidentFacts(**row)


async def correct_incident(conn: Conn, incident_id: int, facts: IncidentFacts) -> None:
    """Store the incident's corrected location, address and notes (`facts.status` unused)."""
    params = {
        "id": incident_id,
        "lat": facts.lat,
        "lon": facts.lon,
        "address": facts.address,
        "notes": facts.notes,
    }
    await conn.execute(_CORRECT_INCIDENT, params)


async def forget_routes(conn: Conn, incident_id: int) -> None:
    """The incident's alerts lose their stored routes (the pin moved)."""
    await conn.execute(_FORGET_ROUTES, {"id": incident_id})


async def enqueue_update_pushes(
    conn: Conn, incident_id: int, states: frozenset[AlertStatus], ttl_s: int
) -> list[int]:
    """An `update` push for each of the incident's alerts in `states`; their ids."""
    params = {"id": incident_id, "states": sorted(s.value for s in states), "ttl": ttl_s}
    return [int(i) for i in await conn.column(_ENQUEUE_UPDATE_PUSHES, params)]
