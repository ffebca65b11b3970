"""One dispatch wave: candidates (SQL) → walking times (routing) → roles → alerts + outbox.

Everything a wave writes — alerts, their outbox rows, the timeline, the next timer — goes
in one statement, so a wave is either wholly committed or not at all: a later wave's in
the caller's transaction (`run_wave`), a new incident's first wave together with the
incident itself, in a statement of its own (`run_first_wave`), whose reads and searches
overlap.

The busy rule holds under concurrency (DESIGN.md §4): a wave is planned from reads that a
concurrent wave, in this process or another, may overtake. So the write alerts only the
volunteers whose `alert_seq` is still the one read with the candidates, and bumps it, all
under their row locks (`store.write_wave`). A volunteer taken by another wave meanwhile
drops out; the shortfall goes into the incident's `replacements_due`, which the timers top
up at once (`timers._replace_one`). Waves that share no volunteer share no lock and never
wait.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from responders.availability import minute_of_week
from responders.coverage import walk_target
from responders.db.gateway import Conn, Database, Reader
from responders.dispatch import store
from responders.dispatch.candidates import find_aeds, find_candidates
from responders.dispatch.rules import (
    NEEDS_AED,
    Assignment,
    Candidate,
    RoleRules,
    UsableAed,
    assign_roles,
)
from responders.dispatch.store import (
    AedSite,
    CandidateQuery,
    NewIncident,
    WaveIncident,
    WaveWrite,
)
from responders.schemas.incidents import IncidentDetail
from responders.settings import DispatchSettings, RegionSettings
from responders.states import IncidentStatus
from routing import Point, Router, Walks

__all__ = [
    "DispatchContext",
    "WaveIncident",
    "WaveOutcome",
    "run_first_wave",
    "run_wave",
]


@dataclass(frozen=True)
class DispatchContext:
    """What a wave needs besides its transaction: the graph, the rules, and the database,
    whose autocommit connections a first wave reads and writes on."""

    router: Router
    settings: DispatchSettings
    region: RegionSettings
    db: Database

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


async def run_wave(
    conn: Conn,
    context: DispatchContext,
    incident_id: int,
    *,
    widen: bool = True,
    size: int | None = None,
) -> WaveOutcome:
    """Alert the next volunteers; `widen` starts a new wave, otherwise it tops up the current."""
    incident = await store.lock_incident_for_wave(conn, incident_id)
    if incident.status != IncidentStatus.ACTIVE:
        return WaveOutcome()
    plan = await _plan(conn, context, incident, widen, size)
    return plan.outcome(await store.write_wave(conn, incident.id, plan.write, widen=widen))


async def run_first_wave(
    context: DispatchContext, new: NewIncident
) -> tuple[WaveOutcome, IncidentDetail]:
    """A new incident and its first wave, written by one statement on an autocommit
    connection: both are committed, or neither, in one round trip with no BEGIN/COMMIT.

    Nobody can have been alerted for the incident yet and nobody else sees it, so its
    candidates and AED sites are read on connections of the database's pool, all at once
    (`Database.both`), and the walking searches from the incident and the AEDs run while
    the candidates are still being read. Returns the operator view as committed."""
    # The incident as it will be, its id still 0.
    draft = WaveIncident(0, new.kind, IncidentStatus.ACTIVE, 0, 0.0, new.lat, new.lon)
    plan = await _plan(context.db, context, draft, widen=True, size=None)
    view = await store.write_first_wave(context.db, new, plan.write)
    return plan.outcome([a.id for a in view.alerts]), view


@dataclass
class _Plan:
    """A wave up to its write: what it writes, its laps."""

    write: WaveWrite
    dropped: int
    clock: _Clock

    def outcome(self, alert_ids: list[int]) -> WaveOutcome:
        """Once written: the lap of the writes closes the clock."""
        self.clock.lap("writes")
        write = self.write
        return WaveOutcome(write.wave, write.radius_m, alert_ids, self.dropped, self.clock.laps)


async def _plan(
    reader: Reader, context: DispatchContext, incident: WaveIncident, widen: bool, size: int | None
) -> _Plan:
    """Candidates and AED sites read (at once from the `Database`), walking times, roles."""
    wave, radius = _next_wave(incident, context.settings, widen)
    clock = _Clock()
    minute = minute_of_week(dt.datetime.now(dt.UTC), context.region.timezone)

    async def ahead() -> _Ahead:
        return _search_ahead(context, incident, await _aed_sites(reader, context, incident, minute))

    searched, candidates = await reader.both(
        ahead(), find_candidates(reader, _query(incident, context, radius, size, minute))
    )
    clock.lap("sql_candidates")
    assignments, dropped = _assign(context, candidates, searched, size)
    clock.lap("routing")
    write = _wave_write(context, wave, radius, assignments, dropped, widen)
    return _Plan(write, len(dropped), clock)


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


def _wave_write(
    context: DispatchContext,
    wave: int,
    radius: float,
    assignments: Sequence[Assignment],
    dropped: Sequence[Candidate],
    widen: bool,
) -> WaveWrite:
    detail = {
        "wave": wave,
        "radius_m": radius,
        "unreachable": _dropped_detail(dropped),
        "aeds": sorted({a.aed.id for a in assignments if a.aed is not None}),
    }
    return WaveWrite(
        wave=wave,
        radius_m=radius,
        assignments=assignments,
        event="wave_started" if widen else "replacement",
        detail=detail,
        alert_ttl_s=context.settings.alert_ttl_s,
        more=wave < context.settings.max_waves,
        wave_timeout_s=context.settings.wave_timeout_s,
    )


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
