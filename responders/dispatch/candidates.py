"""Eligible volunteers and usable AEDs near an incident, found by PostGIS (GiST `<->`).

Eligibility (DESIGN.md §4) is decided in SQL (`store.live_candidates`,
`store.placed_candidates`), before anything is ranked: active and not paused; a
qualification for the incident kind that has not expired; available now at the place used
(a fresh live location, or a registered place inside one of its windows); not busy on
another open incident; under the daily alert cap; not alerted for this one yet.

Each candidate comes with the volunteer's `alert_seq` as read: the wave's write alerts only
those whose version is still the same once their rows are locked (`store.write_wave`), so
what was decided here still holds when two waves are planned at the same moment.
"""

from __future__ import annotations

from collections.abc import Sequence

from responders.db.gateway import Reader
from responders.dispatch import store
from responders.dispatch.rules import Candidate
from responders.dispatch.store import AedSite, CandidateQuery, CandidateRow

__all__ = [
    "AedSite",
    "CandidateQuery",
    "find_aeds",
    "find_candidates",
]


async def find_candidates(reader: Reader, query: CandidateQuery) -> list[Candidate]:
    """The `query.limit` nearest eligible volunteers, each at their nearest position. Two
    halves (live locations, places): from the `Database` they run at once, on two
    connections; on a `Conn` in turn."""
    live, placed = await reader.both(
        store.live_candidates(reader, query), store.placed_candidates(reader, query)
    )
    return _nearest([*live, *placed], query.limit)


def _nearest(rows: Sequence[CandidateRow], limit: int) -> list[Candidate]:
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


async def find_aeds(
    reader: Reader, lat: float, lon: float, radius_m: float, minute_of_week: int, limit: int
) -> Sequence[AedSite]:
    """AEDs usable now (in service; public, or open at this minute), nearest first."""
    return await store.usable_aeds(
        reader, lat=lat, lon=lon, radius_m=radius_m, minute_of_week=minute_of_week, limit=limit
    )
