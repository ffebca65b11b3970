"""Everything at once against the running service on loopback: live-location updates from
many volunteers, incident dispatches, and volunteers answering their alerts.

The service runs as in production (uvicorn, 2 worker processes, the Helsinki graph, the
national registry of 250,000 volunteers). Location updates come from wrk (light on CPU);
dispatches and answers from an asyncio client that closes each incident after a few
seconds. The same dispatches on an otherwise idle service are the baseline: the ratio says
what the load costs them. Aim: dispatch p99 < 200 ms while 2,000 updates/s flow.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
import numpy as np
import psycopg
from _common import api_server, bench_database, ms, run_wrk, table
from _seed import operator_token, responder_tokens, seed_country, street_points

from responders.db.listen import libpq_dsn
from responders.geo import load_router
from responders.settings import RoutingSettings
from routing import GraphRouter

DURATION_S = 30.0
DISPATCH_EVERY_S = 0.5
ANSWERS_PER_INCIDENT = 3
CLOSE_AFTER_S = 4.0
LOCATION_CLIENTS = 64
IDLE_INCIDENTS = 40


@dataclass
class Series:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0

    def add(self, began: float, ok: bool) -> None:
        self.latencies.append(time.perf_counter() - began)
        self.errors += not ok


def city_tokens(url: str, count: int) -> dict[int, str]:
    """Tokens for the volunteers who live in the city (ids 1..count in the seed)."""
    ids = list(range(1, count + 1))
    with psycopg.connect(libpq_dsn(url)) as conn:
        return dict(zip(ids, responder_tokens(conn, ids), strict=True))


async def dispatch_loop(
    http: httpx.AsyncClient,
    operator: dict[str, str],
    spots: list[tuple],
    tokens: dict[int, str],
    stop: float,
    answer: bool,
    dispatches: Series,
    answers: Series,
) -> None:
    pending: list[asyncio.Task[None]] = []
    rng = random.Random(7)
    while time.perf_counter() < stop:
        lat, lon = spots[rng.randrange(len(spots))]
        began = time.perf_counter()
        response = await http.post(
            "/incidents",
            headers=operator,
            json={"kind": "cardiac_arrest", "location": {"lat": lat, "lon": lon}},
        )
        dispatches.add(began, response.status_code == 201)
        if response.status_code == 201:
            incident = response.json()
            if answer:
                pending.append(
                    asyncio.create_task(answer_alerts(http, incident, tokens, rng, answers))
                )
            pending.append(asyncio.create_task(close_later(http, operator, incident["id"])))
        await asyncio.sleep(max(0.0, DISPATCH_EVERY_S - (time.perf_counter() - began)))
    await asyncio.gather(*pending)


async def answer_alerts(
    http: httpx.AsyncClient,
    incident: dict,
    tokens: dict[int, str],
    rng: random.Random,
    answers: Series,
) -> None:
    alerts = [a for a in incident["alerts"] if a["responder_id"] in tokens]
    for alert in rng.sample(alerts, min(ANSWERS_PER_INCIDENT, len(alerts))):
        headers = {"Authorization": f"Bearer {tokens[alert['responder_id']]}"}
        for step in ("GET", "delivered", rng.choice(["accept", "decline"])):
            began = time.perf_counter()
            if step == "GET":
                response = await http.get(f"/alerts/{alert['id']}", headers=headers)
            else:
                response = await http.post(f"/alerts/{alert['id']}/{step}", headers=headers)
            answers.add(began, response.status_code in (200, 409))


async def close_later(http: httpx.AsyncClient, operator: dict[str, str], incident_id: int) -> None:
    await asyncio.sleep(CLOSE_AFTER_S)
    await http.post(
        f"/incidents/{incident_id}/close", headers=operator, json={"reason": "ems_took_over"}
    )


async def run(
    api: str, operator: dict[str, str], spots: list[tuple], tokens: dict[int, str]
) -> dict[str, object]:
    async with httpx.AsyncClient(base_url=api, timeout=30, trust_env=False) as http:
        idle = Series()
        stop = time.perf_counter() + IDLE_INCIDENTS * DISPATCH_EVERY_S
        await dispatch_loop(http, operator, spots, tokens, stop, False, idle, Series())
        dispatches, answers = Series(), Series()
        stop = time.perf_counter() + DURATION_S
        locations, _ = await asyncio.gather(
            asyncio.to_thread(run_wrk, api, list(tokens.values()), LOCATION_CLIENTS, DURATION_S),
            dispatch_loop(http, operator, spots, tokens, stop, True, dispatches, answers),
        )
    return {"idle": idle, "dispatches": dispatches, "answers": answers, "locations": locations}


def main() -> None:
    router = load_router(RoutingSettings())
    assert isinstance(router, GraphRouter)
    rng = np.random.default_rng(3)
    lat, lon = street_points(router, 500, rng)
    spots = list(zip(lat.tolist(), lon.tolist(), strict=True))
    with bench_database("ehbo_bench_load") as url:
        seeded = seed_country(url, router)
        tokens = city_tokens(url, seeded.in_city)
        operator = {"Authorization": f"Bearer {operator_token(url)}"}
        env = {"EHBO_DB_URL": url, "EHBO_DB_POOL_SIZE": "20", "EHBO_LIMITS_ENABLED": "true"}
        with api_server(env, workers=2) as api:
            figures = asyncio.run(run(api, operator, spots, tokens))
    report(figures, seeded.volunteers)


def report(f: dict[str, Any], volunteers: int) -> None:
    idle, dispatches, answers, loc = f["idle"], f["dispatches"], f["answers"], f["locations"]
    rows: list[tuple[object, ...]] = []
    if loc:
        rows.append(
            (
                "location updates/s",
                f"{LOCATION_CLIENTS} wrk clients, {DURATION_S:.0f} s",
                loc["rate"],
                "—",
                "—",
            )
        )
        rows.append(("  p99 (ms)", f"errors {loc['errors']:.0f}", loc["p99"], "—", "—"))
    loaded = {q: ms(dispatches.latencies, q) for q in (50, 99)}
    calm = {q: ms(idle.latencies, q) for q in (50, 99)}
    rows += [
        (
            "dispatch p50 (ms)",
            f"{len(dispatches.latencies)} incidents, {1 / DISPATCH_EVERY_S:g}/s; "
            f"idle: {len(idle.latencies)}",
            loaded[50],
            calm[50],
            f"{loaded[50] / calm[50]:.1f}x",
        ),
        (
            "dispatch p99 (ms)",
            f"errors {dispatches.errors} (idle {idle.errors})",
            loaded[99],
            calm[99],
            f"{loaded[99] / calm[99]:.1f}x",
        ),
        (
            "alert answers/s",
            f"{len(answers.latencies)} requests (GET, delivered, answer)",
            len(answers.latencies) / DURATION_S,
            "—",
            "—",
        ),
        ("  p99 (ms)", f"errors {answers.errors}", ms(answers.latencies, 99), "—", "—"),
    ]
    print(
        table(
            f"Load: all at once on loopback ({volunteers:,} volunteers; alternative = "
            "the same dispatches on an idle service)",
            ["figure", "workload", "under load", "idle", "ratio"],
            rows,
        )
    )
    rate = loc["rate"] if loc else 0.0
    print(
        f"\ntarget: dispatch p99 < 200 ms while 2,000 updates/s flow -> dispatch p99 "
        f"{loaded[99]:.0f} ms at {rate:,.0f} updates/s"
        + ("" if loc else " (install wrk for the location load)")
    )


if __name__ == "__main__":
    main()
