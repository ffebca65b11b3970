"""Eligible volunteers and usable AEDs near an incident, found by PostGIS (GiST `<->`).

Eligibility (DESIGN.md §4) is decided here, in SQL, before anything is ranked: active and
not paused; a qualification for the incident kind that has not expired; available now at
the place used (a fresh live location, or a registered place inside one of its windows);
not busy on another open incident; under the daily alert cap; not alerted for this one yet.

Each candidate comes with the volunteer's `alert_seq` as read: the wave's write alerts only
those whose version is still the same once their rows are locked (`waves._writes`), so what
was decided here still holds when two waves are planned at the same moment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from responders.db.engine import fetch_all
from responders.dispatch._concurrent import Reader, together
from responders.dispatch.rules import QUALIFIED_FOR, Candidate
from responders.states import BUSY, OPEN, sql_list

__all__ = [
    "AedSite",
    "CandidateQuery",
    "find_aeds",
    "find_candidates",
]


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


# Distances are on the sphere (`use_spheroid => false`): within a wave's radius it differs
# from the spheroid by under 0.5 %, the walking time decides the ranking anyway, and it
# took a quarter off the query (bench/bench_dispatch.py).
# Each half filters before its LIMIT, so the KNN scan stops after `limit` eligible rows.
# "Busy" is its own probe so it reads the partial index of alerts still in play
# (`alerts_busy_idx`), never a volunteer's whole history: its statuses must stay those of
# the index's predicate (migration 0005; `states.BUSY`, pinned by a test), or the planner
# can no longer use it. They are literals made from the sets, not bound arrays, so that the
# statement and its generic plan stay exactly what they were. A volunteer
# who has arrived is on scene, and busy as much as one on the way.
# The statements are in the driver's own parameter style: a first wave runs them straight
# on psycopg (`Reader`), later waves through SQLAlchemy's `exec_driver_sql`.
_ELIGIBLE = f"""
    JOIN responders r ON r.id = {{src}}.responder_id
    WHERE ST_DWithin({{src}}.location, (SELECT g FROM here), %(radius)s, false)
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

_HERE = "WITH here AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography AS g)"
# A live location is fresh while younger than the region's setting.
_FRESH = "updated_at > now() - make_interval(secs => %(max_age)s)"


def _branch(table: str, alias: str, source: str, extra: str) -> str:
    """The nearest eligible volunteers of one source of positions, nearest first."""
    return f"""
        {_HERE}
        SELECT {alias}.responder_id, {source} AS source,
               ST_Y({alias}.location::geometry) AS lat, ST_X({alias}.location::geometry) AS lon,
               ST_Distance({alias}.location, (SELECT g FROM here), false) AS straight_m,
               r.alert_seq
        FROM {table} {alias} {_ELIGIBLE.format(src=alias)}
          {extra}
        ORDER BY {alias}.location <-> (SELECT g FROM here) LIMIT %(limit)s
        """  # noqa: S608 - assembled from constants only; every value is a bound parameter


# Two statements, not one: they may run at once on two connections (`find_candidates`).
_LIVE = _branch(
    "live_locations",
    "l",
    "'live'",
    f"AND l.{_FRESH}",
)
# A volunteer with a fresh live location is there, not at home or at work. That test is
# a scalar subquery, not NOT EXISTS, on purpose: the planner then runs it inside the
# index scan, before the eligibility joins. As an anti-join the (generic, prepared) plan
# ran it last, so the places of the half of volunteers who are out went through every
# other probe first; this way the half costs a quarter less (bench/bench_dispatch.py).
_PLACED = _branch(
    "places",
    "p",
    "p.kind",
    f"""AND p.available @> CAST(%(minute)s AS integer)
          AND NOT coalesce((SELECT l.{_FRESH}
                            FROM live_locations l WHERE l.responder_id = p.responder_id), false)""",  # noqa: S608
)


async def find_candidates(reader: Reader, query: CandidateQuery) -> list[Candidate]:
    """The `query.limit` nearest eligible volunteers, each at their nearest position. From
    a pool both halves run at once, on two connections."""
    params = _params(query)
    live, placed = await together(
        reader, _rows(reader, _LIVE, params), _rows(reader, _PLACED, params)
    )
    return _nearest([*live, *placed], query.limit)


async def _rows(reader: Reader, sql: str, params: dict[str, Any]) -> Sequence[Any]:
    """From a pool straight on the driver, rows in binary: SQLAlchemy's checkout and row
    handling cost each candidate half ~1.5 ms of the CPU a dispatch competes for."""
    if isinstance(reader, AsyncConnection):
        return list(await reader.exec_driver_sql(sql, params))
    return await fetch_all(reader, sql, params, binary=True)


def _params(query: CandidateQuery) -> dict[str, Any]:
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


def _nearest(rows: Sequence[Any], limit: int) -> list[Candidate]:
    """Both halves merged: nearest first, each volunteer once (at their nearest position).
    Exact: the `limit` nearest of the union are among each half's `limit` nearest."""
    out: dict[int, Candidate] = {}
    for rid, source, lat, lon, m, seq in sorted(rows, key=lambda r: (r[4], r[0])):
        if rid not in out:
            out[rid] = Candidate(
                responder_id=rid, lat=lat, lon=lon, straight_m=float(m), source=source, seq=seq
            )
            if len(out) == limit:
                break
    return list(out.values())


@dataclass(frozen=True, slots=True)
class AedSite:
    id: int
    lat: float
    lon: float
    straight_m: float


_AEDS = f"""
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


async def find_aeds(
    reader: Reader, lat: float, lon: float, radius_m: float, minute_of_week: int, limit: int
) -> Sequence[AedSite]:
    """AEDs usable now (in service; public, or open at this minute), nearest first."""
    params = {"lat": lat, "lon": lon, "radius": radius_m, "minute": minute_of_week, "limit": limit}
    rows = await _rows(reader, _AEDS, params)
    return [AedSite(r[0], r[1], r[2], float(r[3])) for r in rows]
