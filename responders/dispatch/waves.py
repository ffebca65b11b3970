"""One dispatch wave: candidates (SQL) → walking times (routing) → roles → alerts + outbox.

Everything a wave writes — alerts, their outbox rows, the timeline, the next timer — goes
in the caller's transaction, in one statement, so a wave is either wholly committed or not
at all. A new incident's first wave overlaps its reads and searches (`run_first_wave`);
later waves run them one after another inside their transaction (`run_wave`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from responders.availability import minute_of_week
from responders.dispatch import views
from responders.dispatch._concurrent import both
from responders.dispatch.candidates import (
    AedSite,
    CandidateQuery,
    find_aeds,
    find_candidates,
    find_candidates_apart,
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
from routing import Point, Router, Walks

__all__ = ["Dispatcher", "WaveIncident", "WaveOutcome", "run_first_wave", "run_wave"]


@dataclass(frozen=True)
class Dispatcher:
    """What a wave needs besides its transaction: the graph, the rules, and autocommit
    connections for a first wave's candidate reads (a pool of their own, so that location
    updates never keep a dispatch waiting for a connection)."""

    router: Router
    settings: DispatchSettings
    region: RegionSettings
    reads: AsyncConnectionPool

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
    # A first wave's answer for the operator: the incident as committed.
    view: IncidentDetail | None = None


@dataclass(frozen=True)
class WaveIncident:
    """What a wave reads of its incident (`_LOCK`, or the row a new incident returned)."""

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
    d: Dispatcher,
    incident_id: int,
    *,
    widen: bool = True,
    size: int | None = None,
) -> WaveOutcome:
    """Alert the next volunteers; `widen` starts a new wave, otherwise it tops up the current."""
    row = (await conn.execute(_LOCK, {"id": incident_id})).one()
    incident = WaveIncident(**row._mapping)
    if incident.status != "active":
        return WaveOutcome()
    return await _wave(conn, d, incident, widen, size)


async def run_first_wave(
    conn: AsyncConnection, d: Dispatcher, insert: Coroutine[Any, Any, int], draft: WaveIncident
) -> tuple[int, WaveOutcome]:
    """The first wave of an incident that `insert` writes (in `conn`'s transaction).

    Nobody can be alerted for a new incident yet and nobody else sees it, so its candidates
    are read on connections of their own while `insert` runs, and then the AED sites are
    read and the walking searches from the incident and the AEDs run: all of it within
    the candidate query's time. `draft` is the incident as it will be, its id still 0."""
    wave, radius = _next_wave(draft, d.settings, widen=True)
    clock = _Clock()
    minute = minute_of_week(dt.datetime.now(dt.UTC), d.region.timezone)

    async def written_then_ahead() -> tuple[int, _Ahead]:
        incident_id = await insert
        return incident_id, _search_ahead(d, draft, await _aed_sites(conn, d, draft, minute))

    (incident_id, ahead), candidates = await both(
        written_then_ahead(),
        find_candidates_apart(d.reads, _query(draft, d, radius, None, minute)),
    )
    clock.lap("sql_candidates")
    incident = dataclasses.replace(draft, id=incident_id)
    outcome = await _rest(
        conn, d, incident, wave, radius, True, None, candidates, ahead, clock, show=True
    )
    return incident_id, outcome


async def _wave(
    conn: AsyncConnection, d: Dispatcher, incident: WaveIncident, widen: bool, size: int | None
) -> WaveOutcome:
    wave, radius = _next_wave(incident, d.settings, widen)
    clock = _Clock()
    minute = minute_of_week(dt.datetime.now(dt.UTC), d.region.timezone)
    candidates = await find_candidates(conn, _query(incident, d, radius, size, minute))
    ahead = _search_ahead(d, incident, await _aed_sites(conn, d, incident, minute))
    clock.lap("sql_candidates")
    return await _rest(conn, d, incident, wave, radius, widen, size, candidates, ahead, clock)


@dataclass(frozen=True)
class _Ahead:
    """The searches a wave can run before it knows its candidates."""

    to_incident: Walks
    aeds: list[UsableAed]  # the nearest usable, by walking time from the incident
    from_aeds: Walks


def _search_ahead(d: Dispatcher, incident: WaveIncident, sites: Sequence[AedSite]) -> _Ahead:
    """One bounded search to the incident (it times the AED sites now and the candidates
    later), then one from each of the nearest usable AEDs."""
    target_s = d.settings.target_seconds
    to_incident = d.router.walks_to([Point(incident.lat, incident.lon)], d.settings.max_walk_s)
    (site_times,) = to_incident.times_from([Point(a.lat, a.lon) for a in sites])
    usable = sorted(
        (t, s.id, s)
        for s, t in zip(sites, site_times, strict=True)
        if t is not None and t <= target_s
    )
    aeds = [UsableAed(s.id, s.lat, s.lon, t) for t, _, s in usable[: d.settings.aed_count]]
    from_aeds = d.router.walks_to([Point(a.lat, a.lon) for a in aeds], target_s)
    return _Ahead(to_incident, aeds, from_aeds)


async def _rest(
    conn: AsyncConnection,
    d: Dispatcher,
    incident: WaveIncident,
    wave: int,
    radius: float,
    widen: bool,
    size: int | None,
    candidates: Sequence[Candidate],
    ahead: _Ahead,
    clock: _Clock,
    show: bool = False,
) -> WaveOutcome:
    """From the candidates on: their walking times, roles, and the writes."""
    (times,) = ahead.to_incident.times_from([Point(c.lat, c.lon) for c in candidates])
    ranked, dropped = _rank(candidates, times)
    ranked = ranked[: size or d.settings.wave_size]
    aeds, to_aed = _to_aeds(ahead, ranked)
    assignments = assign_roles(ranked, aeds, to_aed, d.rules)
    clock.lap("routing")
    alert_ids, view = await _write(
        conn, d, incident, wave, radius, assignments, dropped, widen, show
    )
    clock.lap("writes")
    return WaveOutcome(wave, radius, alert_ids, len(dropped), clock.laps, view)


def _next_wave(
    incident: WaveIncident, settings: DispatchSettings, widen: bool
) -> tuple[int, float]:
    if not widen and incident.wave:
        return incident.wave, incident.radius_m
    if incident.wave == 0:
        return 1, settings.first_wave_radius_m
    return incident.wave + 1, min(settings.max_radius_m, incident.radius_m + settings.radius_step_m)


def _query(
    incident: WaveIncident, d: Dispatcher, radius: float, size: int | None, minute: int
) -> CandidateQuery:
    wanted = size or d.settings.wave_size
    return CandidateQuery(
        incident_id=incident.id,
        kind=incident.kind,
        lat=incident.lat,
        lon=incident.lon,
        radius_m=radius,
        limit=wanted * d.settings.candidate_factor,
        minute_of_week=minute,
        live_max_age_s=d.region.live_location_max_age_s,
        daily_cap=d.settings.daily_alert_cap,
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
    conn: AsyncConnection, d: Dispatcher, incident: WaveIncident, minute: int
) -> Sequence[AedSite]:
    """AEDs usable now near the incident, for the kinds that gain from one."""
    if incident.kind not in NEEDS_AED:
        return []
    return await find_aeds(
        conn,
        incident.lat,
        incident.lon,
        d.settings.aed_search_radius_m,
        minute,
        d.settings.aed_count * 3,
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


# One round trip writes the whole wave: the alerts, their outbox rows (nearest first, so
# the push worker sends them in that order), one timeline event per alert and the wave's
# own event after them (one INSERT keeps that order in the ids), and the incident's wave
# and timer. Conflicts (already alerted) are skipped and not counted.
_WRITES = """
    WITH added AS (
        INSERT INTO alerts (incident_id, responder_id, wave, role, aed_id, walk_seconds,
                            straight_m, origin, expires_at)
        SELECT :incident, t.responder, :wave, t.role, t.aed, t.walk, t.straight,
               ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326)::geography,
               now() + make_interval(secs => :ttl)
        FROM unnest(CAST(:responders AS bigint[]), CAST(:roles AS text[]),
                    CAST(:aeds AS bigint[]), CAST(:walks AS real[]), CAST(:straights AS real[]),
                    CAST(:lons AS float8[]), CAST(:lats AS float8[]))
             AS t(responder, role, aed, walk, straight, lon, lat)
        ORDER BY t.walk
        ON CONFLICT (incident_id, responder_id) DO NOTHING
        RETURNING *
    ), queued AS (
        INSERT INTO outbox (alert_id, kind, expires_at)
        SELECT id, 'alert', expires_at FROM added ORDER BY walk_seconds, id
    ), events AS (
        INSERT INTO incident_events (incident_id, alert_id, kind, detail)
        SELECT :incident, e.alert_id, e.kind, e.detail
        FROM (
            SELECT 0 AS n, id AS alert_id, 'alert_queued' AS kind,
                   jsonb_build_object('status', status, 'role', role) AS detail
            FROM added
            UNION ALL
            SELECT 1, NULL, CAST(:event AS text),
                   CAST(:detail AS jsonb)
                   || jsonb_build_object('alerted', (SELECT count(*) FROM added))
        ) e
        ORDER BY e.n, e.alert_id
        RETURNING *
    ), moved AS (
        UPDATE incidents SET wave = :wave, radius_m = :radius, updated_at = now(),
               next_wave_at = CASE WHEN :more THEN now() + make_interval(secs => :timeout) END
        WHERE id = :incident AND :widen
        RETURNING *
    )
"""
_WRITE = text(_WRITES + "SELECT id FROM added ORDER BY walk_seconds, id")  # noqa: S608 - constants
# The first wave also answers with the operator view as committed, from the same statement
# (its own rows are visible to it only through the CTEs): no read after the commit.
_WRITE_AND_SHOW = text(
    _WRITES
    + views.detail_sql(
        "moved",
        "added",
        "(SELECT * FROM incident_events WHERE incident_id = :incident "
        "UNION ALL SELECT * FROM events)",
    )
)


async def _write(
    conn: AsyncConnection,
    d: Dispatcher,
    incident: WaveIncident,
    wave: int,
    radius: float,
    assignments: Sequence[Assignment],
    dropped: Sequence[Candidate],
    widen: bool,
    show: bool,
) -> tuple[list[int], IncidentDetail | None]:
    """The alert ids, nearest first, and with `show` (a first wave) the operator view."""
    detail = {
        "wave": wave,
        "radius_m": radius,
        "unreachable": _dropped_detail(dropped),
        "aeds": sorted({a.aed.id for a in assignments if a.aed is not None}),
    }
    params = {
        **_alert_columns(assignments),
        "incident": incident.id,
        "wave": wave,
        "radius": radius,
        "ttl": d.settings.alert_ttl_s,
        "event": "wave_started" if widen else "replacement",
        "detail": orjson.dumps(detail).decode(),
        "widen": widen,
        "more": wave < d.settings.max_waves,
        "timeout": d.settings.wave_timeout_s,
    }
    if not show:
        return list((await conn.execute(_WRITE, params)).scalars()), None
    view = views.detail_of((await conn.execute(_WRITE_AND_SHOW, params)).one())
    return [a.id for a in view.alerts if a.wave == wave], view


def _alert_columns(assignments: Sequence[Assignment]) -> dict[str, list[object]]:
    return {
        "responders": [a.candidate.responder_id for a in assignments],
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
