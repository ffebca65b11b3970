"""The acceptance figures of issue 14, shared by the tests and the benchmark: 100 addressed
objects of the extract taken at random (seeded, not hand-picked), searched as
`street housenumber`, with one letter of the street dropped, and reversed from their point."""

from __future__ import annotations

import math
import random
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from responders.db.gateway import Database
from responders.geocode import reverse, search
from responders.geocode._osm import Extract, OsmAddress

__all__ = ["Figures", "Finder", "dropped_letter", "measure", "ours"]

SEED = 14
SAMPLE = 100
WITHIN_M = 30.0

# A search under test: the text typed -> the points of its results, best first.
Finder = Callable[[str], Awaitable[list[tuple[float, float]]]]


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    north = (a[0] - b[0]) * 111_320
    east = (a[1] - b[1]) * 111_320 * math.cos(math.radians(a[0]))
    return math.hypot(north, east)


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


def ours(db: Database) -> Finder:
    async def find(q: str) -> list[tuple[float, float]]:
        return [(hit.lat, hit.lon) for hit in await search(db, q, limit=5)]

    return find


async def measure(
    db: Database, extract: Extract, finder: Finder | None = None, *, reverse_too: bool = True
) -> Figures:
    """The figures of `finder` (ours by default) over the seeded sample of all the
    extract's addressed objects (nodes, building outlines, multipolygons with a street or
    place and a number)."""
    find = finder or ours(db)
    rng = random.Random(SEED)
    sample: list[OsmAddress] = rng.sample(extract.addresses, SAMPLE)
    # An address mapped at several places (a building and its entrance, two buildings): a
    # first result within 30 m of ANY of them finds it.
    places: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for a in extract.addresses:
        places[(a.street, a.number.key)].append((a.lat, a.lon))
    figures = Figures()

    async def found(q: str, address: OsmAddress) -> bool:
        started = time.perf_counter()
        points = await find(q)
        figures.latencies_ms.append((time.perf_counter() - started) * 1000)
        spots = places[(address.street, address.number.key)]
        ok = bool(points) and any(_metres(points[0], spot) <= WITHIN_M for spot in spots)
        if not ok:
            figures.misses.append(q)
        return ok

    exact = dropped = named = 0
    for address in sample:
        # The number as a person says it ("13 A" of the tag "13 A, 5. krs./Floor 5").
        exact += await found(f"{address.street} {address.number.text}", address)
        typo = dropped_letter(address.street, rng)
        dropped += await found(f"{typo} {address.number.text}", address)
        if reverse_too:
            hit = await reverse(db, address.lat, address.lon, address_max_m=75, street_max_m=300)
            named += hit is not None and (hit.street or "").casefold() == address.street.casefold()
    figures.exact, figures.dropped = exact / SAMPLE, dropped / SAMPLE
    figures.reverse = named / SAMPLE
    return figures
