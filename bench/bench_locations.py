"""Live-location updates per second through the API, with concurrent clients on loopback.

The service runs as in production (uvicorn, 2 worker processes, the embedded PostGIS); a
separate process drives it with keep-alive connections. In the same run, the same update is
done the obvious way (ORM read-modify-write per update) against the database directly, next
to ours: the updates that arrive together written as one grouped, authenticated upsert
(`LocationWriter`), to show what that design buys.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import multiprocessing
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp
import psycopg
from _common import api_server, bench_database, ms, run_wrk, table
from _seed import responder_tokens
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from responders.db.gateway import Database
from responders.db.listen import libpq_dsn
from responders.db.tables import LiveLocation, ResponderToken
from responders.registry.locations import LocationWriter
from responders.schemas.responders import LocationUpdate
from responders.security import hash_token
from responders.settings import DatabaseSettings

VOLUNTEERS = 5_000
CONCURRENCY = 64
DURATION_S = 15.0
WARMUP_S = 2.0
DB_ONLY_OPS = 8_000
DB_ONLY_CLIENTS = 64


def seed(url: str, count: int) -> list[str]:
    with psycopg.connect(libpq_dsn(url)) as conn:
        ids = [
            r[0]
            for r in conn.execute(
                "INSERT INTO responders (name, phone, email) SELECT 'B' || n, '+3584000', "
                "'b' || n || '@bench.example' FROM generate_series(1, %s) n RETURNING id",
                (count,),
            )
        ]
        return responder_tokens(conn, ids)


async def _drive(url: str, tokens: list[str], duration_s: float) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(url, connector=connector) as http:
        stop = time.perf_counter() + duration_s

        async def client(seed: int) -> None:
            nonlocal errors
            rng = random.Random(seed)
            while time.perf_counter() < stop:
                token = tokens[rng.randrange(len(tokens))]
                body = {
                    "lat": 60.17 + rng.random() / 100,
                    "lon": 24.94 + rng.random() / 100,
                    "accuracy_m": 10,
                }
                began = time.perf_counter()
                async with http.put(
                    "/responders/me/location",
                    json=body,
                    headers={"Authorization": f"Bearer {token}"},
                ) as response:
                    await response.read()
                    if response.status != 204:
                        errors += 1
                latencies.append(time.perf_counter() - began)

        started = time.perf_counter()
        await asyncio.gather(*(client(i) for i in range(CONCURRENCY)))
        return latencies, errors, time.perf_counter() - started


def _load_process(
    url: str, tokens: list[str], queue: multiprocessing.Queue[tuple[list[float], int, float]]
) -> None:
    asyncio.run(_drive(url, tokens, WARMUP_S))
    queue.put(asyncio.run(_drive(url, tokens, DURATION_S)))


def wrk_load(url: str, tokens: list[str]) -> dict[str, float] | None:
    """A warm-up run, then the measured one; None when wrk is not installed."""
    if run_wrk(url, tokens, CONCURRENCY, WARMUP_S) is None:
        return None
    return run_wrk(url, tokens, CONCURRENCY, DURATION_S)


def http_load(url: str, tokens: list[str]) -> tuple[list[float], int, float]:
    queue: multiprocessing.Queue[tuple[list[float], int, float]] = multiprocessing.Queue()
    process = multiprocessing.Process(target=_load_process, args=(url, tokens, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


async def _naive(
    sessions: async_sessionmaker[AsyncSession], token: str, lat: float, lon: float
) -> None:
    """The obvious ORM way: find the token, load the row, change or add it, commit."""
    async with sessions() as session:
        rid = await session.scalar(
            select(ResponderToken.responder_id).where(
                ResponderToken.token_hash == hash_token(token)
            )
        )
        live = await session.get(LiveLocation, rid)
        if live is None:
            live = LiveLocation(responder_id=rid, accuracy_m=10.0)
            session.add(live)
        live.location = f"SRID=4326;POINT({lon!r} {lat!r})"
        live.updated_at = dt.datetime.now(dt.UTC)
        await session.commit()


async def db_only(url: str, tokens: list[str]) -> dict[str, float]:
    # The naive way's own SQLAlchemy engine: the comparison, not the product's gateway.
    naive_url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_async_engine(naive_url, pool_size=16)
    db = await Database.open(DatabaseSettings(url=url, connections=16))
    writer = LocationWriter(db)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    rates = {}
    for name in ("upsert", "naive"):
        queue = list(range(DB_ONLY_OPS))

        async def one_client(
            rng: random.Random, name: str = name, queue: list[int] = queue
        ) -> None:
            while queue:
                queue.pop()
                token = tokens[rng.randrange(len(tokens))]
                lat, lon = 60.17 + rng.random() / 100, 24.94 + rng.random() / 100
                if name == "naive":
                    await _naive(sessions, token, lat, lon)
                else:
                    update = LocationUpdate(lat=lat, lon=lon, accuracy_m=10)
                    await writer.write(token, update)

        began = time.perf_counter()
        await asyncio.gather(*(one_client(random.Random(i)) for i in range(DB_ONLY_CLIENTS)))
        rates[name] = DB_ONLY_OPS / (time.perf_counter() - began)
    await db.close()
    await engine.dispose()
    return rates


def main() -> None:
    with bench_database("ehbo_bench_locations") as url:
        tokens = seed(url, VOLUNTEERS)
        env = {"EHBO_DB_URL": url, "EHBO_ROUTING_ENABLED": "false", "EHBO_DB_POOL_SIZE": "20"}
        with api_server(env) as api:
            figures, driver = wrk_load(api, tokens), "wrk"
            if figures is None:
                figures, driver = _aiohttp_figures(api, tokens), "aiohttp; install wrk"
        rates = asyncio.run(db_only(url, tokens))
    rate = figures["rate"]
    workload = f"{CONCURRENCY} clients ({driver}), {VOLUNTEERS:,} volunteers, {DURATION_S:.0f} s"
    rows = [
        ("updates/s through the API", workload, rate, "—", "—"),
        ("latency p50 (ms)", f"{figures['requests']:,.0f} requests", figures["p50"], "—", "—"),
        ("latency p99 (ms)", f"errors: {figures['errors']:.0f}", figures["p99"], "—", "—"),
        (
            "updates/s, database only",
            f"{DB_ONLY_CLIENTS} clients, {DB_ONLY_OPS:,} updates",
            rates["upsert"],
            rates["naive"],
            f"{rates['upsert'] / rates['naive']:.1f}x",
        ),
    ]
    title = (
        "Live-location updates (ours: grouped authenticated upserts; alternative: ORM "
        "read-modify-write)"
    )
    print(table(title, ["figure", "workload", "ours", "alternative", "ratio"], rows))
    verdict = "met" if rate >= 3000 else "NOT met"
    print(f"\ntarget: >= 3,000 updates/s sustained through the API -> {verdict} ({rate:,.0f}/s)")


def _aiohttp_figures(url: str, tokens: list[str]) -> dict[str, float]:
    latencies, errors, elapsed = http_load(url, tokens)
    return {
        "rate": len(latencies) / elapsed,
        "requests": len(latencies),
        "p50": ms(latencies, 50),
        "p99": ms(latencies, 99),
        "errors": errors,
    }


if __name__ == "__main__":
    main()
