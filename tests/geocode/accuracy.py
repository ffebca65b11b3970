"""The acceptance figures of issue 14, shared by the tests and the benchmark: 100 addressed
objects of the extract taken at random (seeded), searched as `street housenumber`, with one
letter of the street dropped, and reversed from their own point."""

from __future__ import annotations

import math
import random
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from responders.db.gateway import Database
from responders.geocode import GeocodeHit, reverse, search
from responders.geocode._osm import Extract, OsmAddress

__all__ = ["Figures", "dropped_letter", "measure", "sample_addresses"]

SEED = 14
SAMPLE = 100
WITHIN_M = 30.0


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    north = (a[0] - b[0]) * 111_320
    east = (a[1] - b[1]) * 111_320 * math.cos(math.radians(a[0]))
    return math.hypot(north, east)


def sample_addresses(extract: Extract, rng: random.Random) -> list[OsmAddress]:
    """`SAMPLE` of all the extract's addressed objects (nodes, building outlines and
    multipolygons with a street or place and a number), not hand-picked."""
    return rng.sample(extract.addresses, SAMPLE)


def dropped_letter(street: str, rng: random.Random) -> str:
    """The street name with one of its letters (at a random position) left out."""
    letters = [i for i, c in enumerate(street) if c.isalpha()]
    i = rng.choice(letters)
    return street[:i] + street[i + 1 :]


@dataclass
class Figures:
    exact: float = 0.0
    dropped: float = 0.0
    reverse: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)


Search = Callable[[str], Awaitable[list[GeocodeHit]]]


async def measure(db: Database, extract: Extract) -> Figures:
    rng = random.Random(SEED)
    sample = sample_addresses(extract, rng)
    # An address mapped at several places (a building and its entrance, two buildings): a
    # first result within 30 m of ANY of them finds it.
    places: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for a in extract.addresses:
        places[(a.street, a.number.key)].append((a.lat, a.lon))
    figures = Figures()

    async def found(q: str, address: OsmAddress) -> bool:
        started = time.perf_counter()
        hits = await search(db, q, limit=5)
        figures.latencies_ms.append((time.perf_counter() - started) * 1000)
        spots = places[(address.street, address.number.key)]
        ok = bool(hits) and any(_metres((hits[0].lat, hits[0].lon), s) <= WITHIN_M for s in spots)
        if not ok:
            figures.misses.append(f"{q!r} -> {hits[0].label if hits else None}")
        return ok

    exact = dropped = named = 0
    for address in sample:
        # The number as a person says it ("13 A" of the tag "13 A, 5. krs./Floor 5").
        exact += await found(f"{address.street} {address.number.text}", address)
        typo = dropped_letter(address.street, rng)
        dropped += await found(f"{typo} {address.number.text}", address)
        hit = await reverse(db, address.lat, address.lon, address_max_m=75, street_max_m=300)
        named += hit is not None and (hit.street or "").casefold() == address.street.casefold()
    figures.exact, figures.dropped, figures.reverse = (
        exact / SAMPLE,
        dropped / SAMPLE,
        named / SAMPLE,
    )
    return figures
