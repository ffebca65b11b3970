"""Dispatch while one volunteer asks for routes in a loop (issue 12 #8).

One API process (uvicorn, the Helsinki graph, the national registry of 250,000 volunteers).
The same dispatches run on the idle service, then while one volunteer keeps 16 `GET /route`
requests in flight (their per-caller limit raised, so that the loop is not simply refused:
this measures where the routes are drawn). Ours draws routes on one thread of its own
(EHBO_ROUTING_ROUTE_THREADS=1); the alternative draws them on the shared pool of 40 threads,
as before the fix. The per-caller limit's own effect is the last row.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
import numpy as np
import psycopg
from _common import api_server, bench_database, ms, ratio, table
from _seed import operator_token, responder_tokens, seed_country, street_points

from responders.db.listen import libpq_dsn
from responders.geo import load_router
from responders.settings import RoutingSettings
from routing import GraphRouter

INCIDENTS = 40
DISPATCH_EVERY_S = 0.25
ROUTE_LOOPERS = 16
# The shared anyio pool's size: what routes were drawn on before the fix.
SHARED_POOL_THREADS = 40


async def dispatches(
    http: httpx.AsyncClient, operator: dict[str, str], spots: list[tuple[float, float]]
) -> list[float]:
    rng = random.Random(7)
    latencies = []
    for _ in range(INCIDENTS):
        lat, lon = spots[rng.randrange(len(spots))]
        began = time.perf_counter()
        response = await http.post(
            "/incidents",
            headers=operator,
            json={"kind": "cardiac_arrest", "location": {"lat": lat, "lon": lon}},
        )
        latencies.append(time.perf_counter() - began)
        assert response.status_code == 201, response.text
        await http.post(
            f"/incidents/{response.json()['id']}/close",
            headers=operator,
            json={"reason": "ems_took_over"},
        )
        await asyncio.sleep(max(0.0, DISPATCH_EVERY_S - (time.perf_counter() - began)))
    return latencies


async def route_loop(
    http: httpx.AsyncClient,
    volunteer: dict[str, str],
    spots: list[tuple[float, float]],
    stop: asyncio.Event,
) -> int:
    rng = random.Random(11)
    drawn = 0
    while not stop.is_set():
        (a, b), (c, d) = rng.sample(spots, 2)
        response = await http.get(f"/route?from={a},{b}&to={c},{d}", headers=volunteer)
        drawn += response.status_code == 200
    return drawn


async def measure(
    api: str, operator: dict[str, str], volunteer: dict[str, str], spots: list[tuple[float, float]]
) -> tuple[list[float], list[float], int]:
    async with httpx.AsyncClient(base_url=api, timeout=60, trust_env=False) as http:
        idle = await dispatches(http, operator, spots)
        stop = asyncio.Event()
        loops = [
            asyncio.create_task(route_loop(http, volunteer, spots, stop))
            for _ in range(ROUTE_LOOPERS)
        ]
        await asyncio.sleep(1.0)
        busy = await dispatches(http, operator, spots)
        stop.set()
        drawn = sum(await asyncio.gather(*loops))
    return idle, busy, drawn


def main() -> None:
    router = load_router(RoutingSettings())
    assert isinstance(router, GraphRouter)
    lat, lon = street_points(router, 500, np.random.default_rng(3))
    spots = list(zip(lat.tolist(), lon.tolist(), strict=True))
    with bench_database("ehbo_bench_route_loop") as url:
        seeded = seed_country(url, router)
        operator = {"Authorization": f"Bearer {operator_token(url)}"}
        with psycopg.connect(libpq_dsn(url)) as conn:
            (token,) = responder_tokens(conn, [1])
        volunteer = {"Authorization": f"Bearer {token}"}
        base = {"EHBO_DB_URL": url, "EHBO_DB_POOL_SIZE": "20", "EHBO_LIMITS_ENABLED": "true"}
        unlimited = {**base, "EHBO_LIMITS_ROUTES_PER_VOLUNTEER_PER_MINUTE": "1000000"}
        results = {}
        for name, env in (
            ("ours", {**unlimited, "EHBO_ROUTING_ROUTE_THREADS": "1"}),
            ("shared", {**unlimited, "EHBO_ROUTING_ROUTE_THREADS": str(SHARED_POOL_THREADS)}),
            ("limited", {**base, "EHBO_ROUTING_ROUTE_THREADS": "1"}),
        ):
            with api_server(env, workers=1) as api:
                results[name] = asyncio.run(measure(api, operator, volunteer, spots))
    report(results, seeded.volunteers)


def report(results: dict[str, tuple[list[float], list[float], int]], volunteers: int) -> None:
    ours_idle, ours_busy, ours_drawn = results["ours"]
    alt_idle, alt_busy, alt_drawn = results["shared"]
    _, limited_busy, limited_drawn = results["limited"]
    workload = f"{INCIDENTS} incidents, {1 / DISPATCH_EVERY_S:g}/s"
    loop = f"{ROUTE_LOOPERS} GET /route in flight"
    rows = [
        (
            "dispatch p50 (ms), idle",
            workload,
            ms(ours_idle, 50),
            ms(alt_idle, 50),
            ratio(ms(ours_idle, 50), ms(alt_idle, 50)),
        ),
        (
            "dispatch p50 (ms), route loop",
            f"{workload}; {loop}",
            ms(ours_busy, 50),
            ms(alt_busy, 50),
            ratio(ms(ours_busy, 50), ms(alt_busy, 50)),
        ),
        (
            "dispatch p99 (ms), route loop",
            f"routes drawn: {ours_drawn} vs {alt_drawn}",
            ms(ours_busy, 99),
            ms(alt_busy, 99),
            ratio(ms(ours_busy, 99), ms(alt_busy, 99)),
        ),
        (
            "dispatch p50 (ms), loop at its limit",
            f"20 routes/min per volunteer; drawn {limited_drawn}",
            ms(limited_busy, 50),
            "—",
            "—",
        ),
    ]
    print(
        table(
            f"Dispatch beside a route loop ({volunteers:,} volunteers, one API process; "
            f"alternative = routes on the shared pool of {SHARED_POOL_THREADS} threads)",
            ["figure", "workload", "ours", "shared pool", "ratio"],
            rows,
        )
    )


if __name__ == "__main__":
    main()
