"""One dispatch wave: candidates (SQL) → walking times (routing) → roles → alerts + outbox.

Everything a wave writes — alerts, their outbox rows, the timeline, the next timer — goes
in one statement, so a wave is either wholly committed or not at all: a later wave's in
the caller's transaction (`run_wave`), a new incident's first wave together with the
incident itself, in a statement of its own (`run_first_wave`), whose reads and searches
overlap.

The busy rule holds under concurrency (DESIGN.md §4): a wave is planned from reads that a
concurrent wave, in this process or another, may overtake. So the write alerts only the
volunteers whose `alert_seq` is still the one read with the candidates, and bumps it, all
under their row locks (`_LOCKED`). A volunteer taken by another wave meanwhile drops out;
the shortfall goes into the incident's `replacements_due`, which the timers top up at once
(`timers._replace_one`). Waves that share no volunteer share no lock and never wait.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import orjson
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from responders.availability import minute_of_week
from responders.coverage import walk_target
from responders.db.engine import write_one
from responders.dispatch import views
from responders.dispatch._concurrent import Reader, together
from responders.dispatch.candidates import (
    AedSite,
    CandidateQuery,
    find_aeds,
    find_candidates,
)
from responders.dispatch.rules import (
    NEEDS_AED,
    Assignment,
    Candidate,
    RoleRules,
    UsableAed,
    assign_roles,
)
from responders.schemas.incidents import IncidentDetail
from responders.settings import DispatchSettings, RegionSettings
from responders.states import IncidentStatus
from routing import Point, Router, Walks

__all__ = [
    "INSERT_INCIDENT",
    "DispatchContext",
    "WaveIncident",
    "WaveOutcome",
    "run_first_wave",
    "run_wave",
]


@dataclass(frozen=True)
class DispatchContext:
    """What a wave needs besides its transaction: the graph, the rules, and autocommit
    connections for first waves, which read and write on them (a pool of their own, so
    that location updates never keep a dispatch waiting for a connection)."""

    router: Router
    settings: DispatchSettings
    region: RegionSettings
    pool: AsyncConnectionPool

    @property
    def rules(self) -> RoleRules:
        return RoleRules(
            target_s=self.settings.target_seconds,
            detour_allowance_s=self.settings.aed_detour_allowance_s,
        )


@dataclass
class WaveOutcome:
    wave: int = 0
    radius_m: float = 0.0
    alert_ids: list[int] = field(default_factory=list)
    dropped: int = 0
    timings_ms: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class WaveIncident:
    """What a wave reads of its incident (`_LOCK`, or a new one's draft)."""

    id: int
    kind: str
    status: str
    wave: int
    radius_m: float
    lat: float
    lon: float


_LOCK = text(
    "SELECT id, kind, status, wave, radius_m, ST_Y(location::geometry) AS lat, "
    "ST_X(location::geometry) AS lon FROM incidents WHERE id = :id FOR UPDATE"
)


async def run_wave(
    conn: AsyncConnection,
    context: DispatchContext,
    incident_id: int,
    *,
    widen: bool = True,
    size: int | None = None,
) -> WaveOutcome:
    """Alert the next volunteers; `widen` starts a new wave, otherwise it tops up the current."""
    row = (await conn.execute(_LOCK, {"id": incident_id})).one()
    incident = WaveIncident(**row._mapping)
    if incident.status != IncidentStatus.ACTIVE:
        return WaveOutcome()
    return await _wave(conn, context, incident, widen, size)


async def run_first_wave(
    context: DispatchContext, draft: WaveIncident, columns: Mapping[str, object]
) -> tuple[WaveOutcome, IncidentDetail]:
    """A new incident and its first wave, written by one statement on an autocommit
    connection: both are committed, or neither, in one round trip with no BEGIN/COMMIT.

    Nobody can have been alerted for the incident yet and nobody else sees it, so its
    candidates and AED sites are read on connections of the dispatch pool, all at once,
    and the walking searches from the incident and the AEDs run while the candidates are
    still being read. `draft` is the incident as it will be (its id still 0), `columns`
    the incident's own columns (`INSERT_INCIDENT`). Returns the operator view as committed."""
    plan = await _plan(context.pool, context, draft, widen=True, size=None)
    # Only a race can fail it: a volunteer or an AED removed while the wave was planned.
    row = await write_one(context.pool, _FIRST_WAVE, {**plan.params, **columns}, _RACED)
    view = views.detail_of(row)
    return plan.outcome([a.id for a in view.alerts]), view


async def _wave(
    conn: AsyncConnection,
    context: DispatchContext,
    incident: WaveIncident,
    widen: bool,
    size: int | None,
) -> WaveOutcome:
    plan = await _plan(conn, context, incident, widen, size)
    params = {**plan.params, "incident": incident.id, "widen": widen}
    return plan.outcome(list((await conn.exec_driver_sql(_WRITE, params)).scalars()))


@dataclass
class _Plan:
    """A wave up to its write: its number and radius, its write's parameters, its laps."""

    wave: int
    radius: float
    params: dict[str, object]
    dropped: int
    clock: _Clock

    def outcome(self, alert_ids: list[int]) -> WaveOutcome:
        """Once written: the lap of the writes closes the clock."""
        self.clock.lap("writes")
        return WaveOutcome(self.wave, self.radius, alert_ids, self.dropped, self.clock.laps)


async def _plan(
    reader: Reader, context: DispatchContext, incident: WaveIncident, widen: bool, size: int | None
) -> _Plan:
    """Candidates and AED sites read (at once from a pool), walking times, roles."""
    wave, radius = _next_wave(incident, context.settings, widen)
    clock = _Clock()
    minute = minute_of_week(dt.datetime.now(dt.UTC), context.region.timezone)

    async def ahead() -> _Ahead:
        return _search_ahead(context, incident, await _aed_sites(reader, context, incident, minute))

    searched, candidates = await together(
        reader, ahead(), find_candidates(reader, _query(incident, context, radius, size, minute))
    )
    clock.lap("sql_candidates")
    assignments, dropped = _assign(context, candidates, searched, size)
    clock.lap("routing")
    params = _write_params(context, wave, radius, assignments, dropped, widen)
    return _Plan(wave, radius, params, len(dropped), clock)


@dataclass(frozen=True)
class _Ahead:
    """The searches a wave can run before it knows its candidates."""

    to_incident: Walks
    aeds: list[UsableAed]  # the nearest usable, by walking time from the incident
    from_aeds: Walks


def _search_ahead(
    context: DispatchContext, incident: WaveIncident, sites: Sequence[AedSite]
) -> _Ahead:
    """One bounded search to the incident (it times the AED sites now and the candidates
    later), then one from each of the nearest usable AEDs."""
    target_s = context.settings.target_seconds
    target = walk_target(
        context.router, incident.lat, incident.lon
    )  # a confirmed one may be afloat
    to_incident = context.router.walks_to([target], context.settings.max_walk_s)
    (site_times,) = to_incident.times_from([Point(a.lat, a.lon) for a in sites])
    usable = sorted(
        (t, s.id, s)
        for s, t in zip(sites, site_times, strict=True)
        if t is not None and t <= target_s
    )
    aeds = [UsableAed(s.id, s.lat, s.lon, t) for t, _, s in usable[: context.settings.aed_count]]
    from_aeds = context.router.walks_to([Point(a.lat, a.lon) for a in aeds], target_s)
    return _Ahead(to_incident, aeds, from_aeds)


def _assign(
    context: DispatchContext,
    candidates: Sequence[Candidate],
    ahead: _Ahead,
    size: int | None,
) -> tuple[list[Assignment], list[Candidate]]:
    """From the candidates on: their walking times, the ranking, the roles; and who was
    dropped as unreachable."""
    (times,) = ahead.to_incident.times_from([Point(c.lat, c.lon) for c in candidates])
    ranked, dropped = _rank(candidates, times)
    ranked = ranked[: size or context.settings.wave_size]
    aeds, to_aed = _to_aeds(ahead, ranked)
    return assign_roles(ranked, aeds, to_aed, context.rules), dropped


def _next_wave(
    incident: WaveIncident, settings: DispatchSettings, widen: bool
) -> tuple[int, float]:
    if not widen and incident.wave:
        return incident.wave, incident.radius_m
    if incident.wave == 0:
        return 1, settings.first_wave_radius_m
    return incident.wave + 1, min(settings.max_radius_m, incident.radius_m + settings.radius_step_m)


def _query(
    incident: WaveIncident, context: DispatchContext, radius: float, size: int | None, minute: int
) -> CandidateQuery:
    wanted = size or context.settings.wave_size
    return CandidateQuery(
        incident_id=incident.id,
        kind=incident.kind,
        lat=incident.lat,
        lon=incident.lon,
        radius_m=radius,
        limit=wanted * context.settings.candidate_factor,
        minute_of_week=minute,
        live_max_age_s=context.region.live_location_max_age_s,
        daily_cap=context.settings.daily_alert_cap,
    )


def _rank(
    candidates: Sequence[Candidate], times: Sequence[float | None]
) -> tuple[list[tuple[Candidate, float]], list[Candidate]]:
    """Walking time decides the order; straight-line distance never decides alone."""
    reachable = sorted(
        ((c, t) for c, t in zip(candidates, times, strict=True) if t is not None),
        key=lambda pair: (pair[1], pair[0].responder_id),
    )
    dropped = [c for c, t in zip(candidates, times, strict=True) if t is None]
    return reachable, dropped


async def _aed_sites(
    reader: Reader, context: DispatchContext, incident: WaveIncident, minute: int
) -> Sequence[AedSite]:
    """AEDs usable now near the incident, for the kinds that gain from one."""
    if incident.kind not in NEEDS_AED:
        return []
    return await find_aeds(
        reader,
        incident.lat,
        incident.lon,
        context.settings.aed_search_radius_m,
        minute,
        context.settings.aed_count * 3,
    )


def _to_aeds(
    ahead: _Ahead, ranked: Sequence[tuple[Candidate, float]]
) -> tuple[list[UsableAed], dict[tuple[int, int], float]]:
    """The usable AEDs, and each ranked candidate's time to each of them."""
    if not ranked:
        return [], {}
    rows = ahead.from_aeds.times_from([Point(c.lat, c.lon) for c, _ in ranked])
    to_aed = {
        (i, j): t for j, times in enumerate(rows) for i, t in enumerate(times) if t is not None
    }
    return ahead.aeds, to_aed


# The chosen volunteers whose version is still the one read with the candidates, their
# rows locked and the version bumped, so that no other wave can alert them too. The locks
# are taken in id order, so two waves wanting the same volunteers never deadlock. A row
# bumped by a wave that committed before this statement began no longer matches; one
# being bumped by a wave still running makes this wait for it (a few milliseconds: one
# statement, or a later wave's transaction), and READ COMMITTED then re-checks the join
# on the row's newest version (EvalPlanQual), which no longer matches either. NO KEY
# UPDATE, the lock an UPDATE of a non-key column takes, leaves the foreign-key checks of
# other writers (their alerts, live locations, places of these volunteers) unblocked.
# `_LOST` is how many the wave planned but could not have.
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


# One round trip writes the whole wave: the alerts, their outbox rows (nearest first, so
# the push worker sends them in that order), one timeline event per alert and the wave's
# own event after them (one INSERT keeps that order in the ids). Only volunteers locked
# and unchanged (`_LOCKED`, which must come before) are alerted; conflicts (already
# alerted) are skipped and not counted. `incident` is the incident's id as SQL; `first`
# goes before the alerts' events (a new incident's own "reported").
def _writes(incident: str, first: str = "") -> str:
    return f"""
    added AS (
        INSERT INTO alerts (incident_id, responder_id, wave, role, aed_id, walk_seconds,
                            straight_m, origin, expires_at)
        SELECT {incident}, t.responder, %(wave)s, t.role, t.aed, t.walk, t.straight,
               ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326)::geography,
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
        SELECT id, 'alert', expires_at FROM added ORDER BY walk_seconds, id
    ), events AS (
        INSERT INTO incident_events (incident_id, alert_id, kind, detail)
        SELECT {incident}, e.alert_id, e.kind, e.detail
        FROM (
            {first}
            SELECT 0 AS n, id AS alert_id, 'alert_queued' AS kind,
                   jsonb_build_object('status', status, 'role', role) AS detail
            FROM added
            UNION ALL
            SELECT 1, NULL, CAST(%(event)s AS text),
                   CAST(%(detail)s AS jsonb)
                   || jsonb_build_object('alerted', (SELECT count(*) FROM added),
                                         'taken_meanwhile', {_LOST})
        ) e
        ORDER BY e.n, e.alert_id
        RETURNING *
    )
    """  # noqa: S608 - assembled from constants only; every value is a bound parameter


_RACED = "a volunteer or an AED was removed while dispatching: send the incident again"
_NEXT_WAVE_AT = "CASE WHEN %(more)s THEN now() + make_interval(secs => %(timeout)s) END"
# A later wave also moves its incident on when it widens (the wave, the radius, the next
# timer), and counts the volunteers other waves took meanwhile as replacements due. One
# UPDATE does both: two on one row in one statement would leave only one of them.
_MOVED = f"""
    moved AS (
        UPDATE incidents SET
            wave = CASE WHEN %(widen)s THEN %(wave)s ELSE wave END,
            radius_m = CASE WHEN %(widen)s THEN %(radius)s ELSE radius_m END,
            updated_at = CASE WHEN %(widen)s THEN now() ELSE updated_at END,
            next_wave_at = CASE WHEN %(widen)s THEN {_NEXT_WAVE_AT} ELSE next_wave_at END,
            replacements_due = replacements_due + {_LOST}
        WHERE id = %(incident)s AND (%(widen)s OR {_LOST} > 0)
    )"""  # noqa: S608 - constants only
_WRITE = f"""WITH {_LOCKED}, {_writes("%(incident)s")}, {_MOVED}
    SELECT id FROM added ORDER BY walk_seconds, id"""  # noqa: S608 - constants only


def _insert_incident(replacements_due: str) -> str:
    """A new incident's row (`made`), at the status and wave it starts with: a citizen's
    report in triage at wave 0 (`lifecycle`), an operator's at its first wave, which may
    owe replacements for volunteers taken meanwhile (`_LOST`)."""
    return f"""
    made AS (
        INSERT INTO incidents (kind, location, address, notes, source, status, callback_phone,
                               reported_by, wave, radius_m, next_wave_at, replacements_due)
        VALUES (%(kind)s, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography,
                %(address)s, %(notes)s, %(source)s, %(status)s, %(callback_phone)s,
                %(reported_by)s, %(wave)s, %(radius)s, {_NEXT_WAVE_AT}, {replacements_due})
        RETURNING *
    )"""  # noqa: S608 - constants only


INSERT_INCIDENT = _insert_incident("0")
# A first wave writes its incident too and answers with the operator view as committed
# (its own rows are visible to it only through the CTEs).
_REPORTED = """SELECT -1 AS n, NULL::bigint AS alert_id, 'reported' AS kind,
                   CAST(%(reported)s AS jsonb) AS detail
            UNION ALL"""
_FIRST_WAVE = f"""WITH {_LOCKED}, {_insert_incident(_LOST)},
    {_writes("(SELECT id FROM made)", _REPORTED)}
    {views.detail_sql("made", "added", "events")}"""  # noqa: S608 - constants only


def _write_params(
    context: DispatchContext,
    wave: int,
    radius: float,
    assignments: Sequence[Assignment],
    dropped: Sequence[Candidate],
    widen: bool,
) -> dict[str, object]:
    detail = {
        "wave": wave,
        "radius_m": radius,
        "unreachable": _dropped_detail(dropped),
        "aeds": sorted({a.aed.id for a in assignments if a.aed is not None}),
    }
    return {
        **_alert_columns(assignments),
        "wave": wave,
        "radius": radius,
        "ttl": context.settings.alert_ttl_s,
        "event": "wave_started" if widen else "replacement",
        "detail": orjson.dumps(detail).decode(),
        "more": wave < context.settings.max_waves,
        "timeout": context.settings.wave_timeout_s,
    }


def _alert_columns(assignments: Sequence[Assignment]) -> dict[str, list[object]]:
    return {
        "responders": [a.candidate.responder_id for a in assignments],
        "seqs": [a.candidate.seq for a in assignments],
        "roles": [a.role for a in assignments],
        "aeds": [a.aed.id if a.aed else None for a in assignments],
        "walks": [round(a.arrival_s, 1) for a in assignments],
        "straights": [round(a.candidate.straight_m, 1) for a in assignments],
        "lons": [a.candidate.lon for a in assignments],
        "lats": [a.candidate.lat for a in assignments],
    }


def _dropped_detail(dropped: Sequence[Candidate]) -> list[dict[str, object]]:
    return [
        {
            "responder_id": c.responder_id,
            "straight_m": round(c.straight_m),
            "reason": "no walking path within the time limit",
        }
        for c in dropped
    ]


class _Clock:
    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round((now - self._last) * 1000, 3)
        self._last = now
