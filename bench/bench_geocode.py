"""Address search (issue 14): accuracy over 100 random addresses of the Helsinki extract,
and search latency, beside the obvious other way: a plain `ILIKE '%…%'` scan of the same
table (`geocode_entries.label`) with the same queries.

The figures are those the acceptance test asserts (tests/geocode/accuracy.py): `street
housenumber` first result within 30 m, the same with one letter of the street dropped, and
reverse geocoding naming the object's street.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT)]

from _common import bench_database, percentile, ratio, table  # noqa: E402

from responders.db.gateway import Database  # noqa: E402
from responders.geo import default_extract  # noqa: E402
from responders.geocode import build_from_extract  # noqa: E402
from responders.geocode._osm import read_extract  # noqa: E402
from responders.geocode.store import ilike_search  # noqa: E402
from responders.settings import DatabaseSettings  # noqa: E402
from tests.geocode.accuracy import Finder, measure  # noqa: E402

WARMUP = 20


def _ilike(db: Database) -> Finder:
    async def find(q: str) -> list[tuple[float, float]]:
        return [(row["lat"], row["lon"]) for row in await ilike_search(db, q, 5)]

    return find


def _p(values: list[float], q: float) -> float:
    return percentile(values, q) if q != 50 else sorted(values)[len(values) // 2]


async def run(url: str) -> str:
    db = await Database.open(DatabaseSettings(url=url, connections=4))
    try:
        path = default_extract()
        began = time.perf_counter()
        report = await build_from_extract(db, path)
        build_s = time.perf_counter() - began
        extract = read_extract(path)
        # Warm both ways (plans, caches) on queries outside the measured set.
        await measure(db, extract, reverse_too=False)
        await measure(db, extract, _ilike(db), reverse_too=False)
        ours = await measure(db, extract)
        plain = await measure(db, extract, _ilike(db), reverse_too=False)
    finally:
        await db.close()
    rows = [
        ("street number: first within 30 m", f"{ours.exact:.0%}", f"{plain.exact:.0%}", "≥ 95 %"),
        ("one letter dropped", f"{ours.dropped:.0%}", f"{plain.dropped:.0%}", "≥ 80 %"),
        ("reverse names the street", f"{ours.reverse:.0%}", "—", "≥ 90 %"),
    ]
    for q in (50, 95):
        a, b = _p(ours.latencies_ms, q), _p(plain.latencies_ms, q)
        rows.append((f"search latency p{q} (ms)", f"{a:.2f}", f"{b:.2f}", ratio(a, b)))
    header = ("figure", "ours (pg_trgm)", "plain ILIKE scan", "target / ratio")
    title = (
        f"geocoding, {path.name}: {report.addresses} addresses, {report.streets} streets, "
        f"{report.places} places indexed in {build_s:.1f} s; "
        f"{len(ours.latencies_ms)} queries each way"
    )
    return table(title, header, rows)


def main() -> int:
    with bench_database("ehbo_bench_geocode") as url:
        print(asyncio.run(run(url)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
