"""Eligible volunteers and usable AEDs near an incident, found by PostGIS (GiST `<->`).

Eligibility (DESIGN.md §4) is decided here, in SQL, before anything is ranked: active and
not paused; a qualification for the incident kind that has not expired; available now at
the place used (a fresh live location, or a registered place inside one of its windows);
not busy on another open incident; under the daily alert cap; not alerted for this one yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from responders.dispatch.rules import QUALIFIED_FOR, Candidate

__all__ = ["AedSite", "CandidateQuery", "find_aeds", "find_candidates"]


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
# Each branch filters before its LIMIT, so the KNN scan stops after `limit` eligible rows.
# "Busy" is its own probe so it reads the partial index of alerts still in play
# (`alerts_busy_idx`), never a volunteer's whole history.
_ELIGIBLE = """
    JOIN responders r ON r.id = {src}.responder_id
    WHERE ST_DWithin({src}.location, (SELECT g FROM here), :radius, false)
      AND (r.status = 'active' OR (r.paused_until IS NOT NULL AND r.paused_until <= now()))
      AND EXISTS (SELECT 1 FROM qualifications q WHERE q.responder_id = r.id
                  AND q.kind = ANY(:kinds) AND q.expires_on >= current_date)
      AND NOT EXISTS (SELECT 1 FROM alerts a
                      WHERE a.incident_id = :incident AND a.responder_id = r.id)
      AND NOT EXISTS (SELECT 1 FROM alerts a JOIN incidents i ON i.id = a.incident_id
                      WHERE a.responder_id = r.id
                        AND a.status IN ('queued', 'sent', 'delivered', 'accepted')
                        AND i.status IN ('triage', 'active'))
      AND (SELECT count(*) FROM alerts a WHERE a.responder_id = r.id
           AND a.created_at > now() - interval '1 day') < :cap
"""

# Assembled from constants only; every value is a bound parameter.
_CANDIDATES = text(
    f"""
    WITH here AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography AS g),
    live AS (
        SELECT l.responder_id, l.location, 'live' AS source
        FROM live_locations l {_ELIGIBLE.format(src="l")}
          AND l.updated_at > now() - make_interval(secs => :max_age)
        ORDER BY l.location <-> (SELECT g FROM here) LIMIT :limit
    ),
    placed AS (
        SELECT p.responder_id, p.location, p.kind AS source
        FROM places p {_ELIGIBLE.format(src="p")}
          AND p.available @> CAST(:minute AS integer)
          AND NOT EXISTS (SELECT 1 FROM live_locations l WHERE l.responder_id = p.responder_id
                          AND l.updated_at > now() - make_interval(secs => :max_age))
        ORDER BY p.location <-> (SELECT g FROM here) LIMIT :limit
    ),
    nearest AS (
        SELECT DISTINCT ON (responder_id) responder_id, source,
               ST_Y(location::geometry) AS lat, ST_X(location::geometry) AS lon,
               ST_Distance(location, (SELECT g FROM here), false) AS straight_m
        FROM (SELECT * FROM live UNION ALL SELECT * FROM placed) c
        ORDER BY responder_id, ST_Distance(location, (SELECT g FROM here), false)
    )
    SELECT responder_id, source, lat, lon, straight_m FROM nearest ORDER BY straight_m LIMIT :limit
    """  # noqa: S608
)


async def find_candidates(conn: AsyncConnection, query: CandidateQuery) -> list[Candidate]:
    params = {
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
    rows = await conn.execute(_CANDIDATES, params)
    return [
        Candidate(responder_id=rid, lat=lat, lon=lon, straight_m=float(m), source=source)
        for rid, source, lat, lon, m in rows
    ]


@dataclass(frozen=True, slots=True)
class AedSite:
    id: int
    lat: float
    lon: float
    straight_m: float


_AEDS = text(
    """
    WITH here AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography AS g)
    SELECT a.id, ST_Y(a.location::geometry) AS lat, ST_X(a.location::geometry) AS lon,
           ST_Distance(a.location, (SELECT g FROM here), false) AS straight_m
    FROM aeds a
    WHERE a.status = 'in_service'
      AND (a.access = 'public' OR a.open_minutes @> CAST(:minute AS integer))
      AND ST_DWithin(a.location, (SELECT g FROM here), :radius, false)
    ORDER BY a.location <-> (SELECT g FROM here)
    LIMIT :limit
    """
)


async def find_aeds(
    conn: AsyncConnection, lat: float, lon: float, radius_m: float, minute_of_week: int, limit: int
) -> Sequence[AedSite]:
    """AEDs usable now (in service; public, or open at this minute), nearest first."""
    params = {"lat": lat, "lon": lon, "radius": radius_m, "minute": minute_of_week, "limit": limit}
    rows = await conn.execute(_AEDS, params)
    return [AedSite(r.id, r.lat, r.lon, float(r.straight_m)) for r in rows]
