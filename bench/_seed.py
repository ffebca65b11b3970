"""A national-scale registry, seeded with COPY: volunteers, places, devices, AEDs, history.

`seed_country(url, router)` fills a fresh bench database with `VOLUNTEERS` volunteers spread
over a Netherlands-sized box of southern Finland (towns plus countryside), a few percent of
them on the streets of the routing extract (the demo city), with realistic mixes:

- ~55 % report a fresh live location (< 8 min old); of the rest some have a stale one;
- registered places (home, often work) with weekly availability windows, as typed by people
  (evenings and weekends, office hours, always, nights), stored as `int4multirange`;
- qualifications with expiry dates (some all expired), some paused (mostly until later);
- one device (FCM token) each;
- AEDs: a few dozen in the city (public, restricted with opening hours, some out of
  service) and a few thousand over the country;
- a month of alert history (closed incidents), a little of it within the last day.

Everything is generated with numpy from a fixed seed and written with COPY or set-based SQL.
`operator_token(url)` adds the operator the benches dispatch as.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg

from responders.availability import windows_to_multirange
from responders.db.gateway import Database
from responders.db.listen import libpq_dsn
from responders.registry.operators import create_operator
from responders.schemas.common import Window
from responders.security import hash_token, new_token
from responders.settings import DatabaseSettings
from routing import GraphRouter

__all__ = [
    "BOX",
    "CITY_AEDS",
    "VOLUNTEERS",
    "Seeded",
    "operator_token",
    "responder_tokens",
    "seed_country",
    "street_points",
]

VOLUNTEERS = 250_000
CITY_SHARE = 0.03
# (min_lon, min_lat, max_lon, max_lat): ~220 km x 200 km, about the Netherlands' land area.
BOX = (22.9, 60.0, 26.9, 61.8)
CITY_AEDS = 40
COUNTRY_AEDS = 5_000
LIVE_FRESH = 0.55
HISTORY_INCIDENTS = 3_000

_KINDS = ("cpr_aed", "first_aid", "bhv", "nurse", "physician", "paramedic")
_KIND_P = (0.55, 0.25, 0.10, 0.06, 0.03, 0.01)
_WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_WORKDAYS = _WEEK[:5]
_WEEKEND = _WEEK[5:]

# (weight, windows) as a volunteer would type them.
_HOME: list[tuple[float, list[dict[str, Any]]]] = [
    (0.25, [{"days": _WEEK, "start": "00:00", "end": "24:00"}]),
    (
        0.35,
        [
            {"days": _WORKDAYS, "start": "17:30", "end": "08:00"},
            {"days": _WEEKEND, "start": "00:00", "end": "24:00"},
        ],
    ),
    (0.15, [{"days": _WEEK, "start": "18:00", "end": "23:00"}]),
    (0.15, [{"days": _WEEKEND, "start": "09:00", "end": "21:00"}]),
    (0.10, [{"days": _WEEK, "start": "22:00", "end": "07:00"}]),
]
_WORK: list[tuple[float, list[dict[str, Any]]]] = [
    (0.85, [{"days": _WORKDAYS, "start": "08:00", "end": "17:00"}]),
    (0.15, [{"days": ["mon", "tue", "wed", "thu"], "start": "09:00", "end": "15:00"}]),
]
_AED_HOURS: list[dict[str, Any]] = [{"days": _WORKDAYS, "start": "08:00", "end": "18:00"}]


@dataclass(frozen=True)
class Seeded:
    volunteers: int
    in_city: int
    live_fresh: int
    places: int
    aeds: int
    history_alerts: int
    seconds: float


def street_points(
    router: GraphRouter, n: int, rng: np.random.Generator, jitter_m: float = 8.0
) -> tuple[np.ndarray, np.ndarray]:
    """Random intersections of the walking graph, moved a few metres (a doorstep)."""
    g = router.graph
    idx = rng.integers(0, len(g.node_lat), n)
    lat = g.node_lat[idx] + rng.uniform(-jitter_m, jitter_m, n) / 111_320
    lon = g.node_lon[idx] + rng.uniform(-jitter_m, jitter_m, n) / (
        111_320 * np.cos(np.radians(g.node_lat[idx]))
    )
    return lat, lon


def _country_points(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """60 % in 60 towns (a few km across), 40 % spread evenly over the box."""
    min_lon, min_lat, max_lon, max_lat = BOX
    towns_lat = rng.uniform(min_lat, max_lat, 60)
    towns_lon = rng.uniform(min_lon, max_lon, 60)
    in_town = rng.random(n) < 0.6
    town = rng.integers(0, 60, n)
    spread_km = rng.exponential(3.0, n)
    angle = rng.uniform(0, 2 * np.pi, n)
    lat = np.where(
        in_town,
        towns_lat[town] + spread_km * np.sin(angle) / 111.32,
        rng.uniform(min_lat, max_lat, n),
    )
    lon = np.where(
        in_town,
        towns_lon[town] + spread_km * np.cos(angle) / (111.32 * np.cos(np.radians(lat))),
        rng.uniform(min_lon, max_lon, n),
    )
    return np.clip(lat, min_lat, max_lat), np.clip(lon, min_lon, max_lon)


def _near(
    lat: np.ndarray, lon: np.ndarray, km: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    d = rng.exponential(km, len(lat))
    a = rng.uniform(0, 2 * np.pi, len(lat))
    return lat + d * np.sin(a) / 111.32, lon + d * np.cos(a) / (111.32 * np.cos(np.radians(lat)))


def _multirange(windows: Sequence[dict[str, Any]]) -> str:
    ranges = windows_to_multirange([Window(**w) for w in windows])
    return "{" + ",".join(f"[{r.lower},{r.upper})" for r in ranges) + "}"


def _point(lon: float, lat: float) -> str:
    return f"SRID=4326;POINT({lon:.7f} {lat:.7f})"


def _copy(cur: psycopg.Cursor, sql: str, lines: Iterable[str]) -> None:
    buffer = io.StringIO()
    for line in lines:
        buffer.write(line)
    with cur.copy(sql) as copy:
        copy.write(buffer.getvalue())


def _pick(
    templates: Sequence[tuple[float, list[dict[str, Any]]]], n: int, rng: np.random.Generator
) -> np.ndarray:
    weights = np.array([w for w, _ in templates])
    return rng.choice(len(templates), n, p=weights / weights.sum())


def seed_country(url: str, router: GraphRouter, seed: int = 20261122) -> Seeded:
    began = time.perf_counter()
    rng = np.random.default_rng(seed)
    n = VOLUNTEERS
    n_city = int(n * CITY_SHARE)
    # Volunteers 1..n_city live and work in the city, on its streets.
    c_lat, c_lon = street_points(router, n_city, rng)
    k_lat, k_lon = _country_points(n - n_city, rng)
    lat, lon = np.concatenate([c_lat, k_lat]), np.concatenate([c_lon, k_lon])
    h_lat, h_lon = street_points(router, n_city, rng)
    kh_lat, kh_lon = _near(k_lat, k_lon, 1.0, rng)
    home_lat, home_lon = np.concatenate([h_lat, kh_lat]), np.concatenate([h_lon, kh_lon])
    w_lat, w_lon = street_points(router, n_city, rng)
    kw_lat, kw_lon = _near(k_lat, k_lon, 8.0, rng)
    work_lat, work_lon = np.concatenate([w_lat, kw_lat]), np.concatenate([w_lon, kw_lon])

    fresh = rng.random(n) < LIVE_FRESH
    stale = ~fresh & (rng.random(n) < 0.2)
    has_home = np.where(fresh, rng.random(n) < 0.7, rng.random(n) < 0.95)
    has_work = rng.random(n) < 0.5
    paused = rng.random(n) < 0.04
    pause_over = rng.random(n) < 0.25  # pause already ended: eligible again
    expired = rng.random(n) < 0.08
    two_quals = rng.random(n) < 0.3
    home_tpl = _pick(_HOME, n, rng)
    work_tpl = _pick(_WORK, n, rng)
    home_ranges = [_multirange(w) for _, w in _HOME]
    work_ranges = [_multirange(w) for _, w in _WORK]
    home_json = [json.dumps(w) for _, w in _HOME]
    work_json = [json.dumps(w) for _, w in _WORK]

    now = dt.datetime.now(dt.UTC)
    today = dt.date.today()
    fresh_age_s = rng.uniform(0, 8 * 60, n)
    stale_age_s = rng.uniform(3600, 3 * 86400, n)
    pause_s = np.where(pause_over, -rng.uniform(60, 86400 * 7, n), rng.uniform(3600, 86400 * 30, n))
    expiry_days = np.where(expired, -rng.integers(1, 400, n), rng.integers(30, 900, n))

    with psycopg.connect(libpq_dsn(url)) as conn, conn.cursor() as cur:
        # The usual bulk load: no per-row FK triggers (the rows are consistent by
        # construction) and the GiST indexes rebuilt once at the end, verbatim.
        cur.execute("SET session_replication_role = replica")
        gist = [
            (name, definition)
            for name, definition in cur.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
                "AND indexdef LIKE '%USING gist%'"
            )
        ]
        for name, _ in gist:
            cur.execute(f'DROP INDEX "{name}"')
        _copy(
            cur,
            "COPY responders (name, phone, email, status, paused_until) FROM STDIN",
            (
                f"Volunteer {i}\t+358 40 {i:07d}\tv{i}@bench.example\t"
                + (
                    f"paused\t{(now + dt.timedelta(seconds=float(pause_s[i]))).isoformat()}\n"
                    if paused[i]
                    else "active\t\\N\n"
                )
                for i in range(n)
            ),
        )
        ids = cur.execute("SELECT min(id), max(id) FROM responders").fetchone()
        assert ids == (1, n), "the bench database must be fresh"
        first_kind = rng.choice(len(_KINDS), n, p=_KIND_P)
        second_kind = rng.choice(len(_KINDS), n, p=_KIND_P)
        quals: list[str] = []
        for i in range(n):
            expires = (today + dt.timedelta(days=int(expiry_days[i]))).isoformat()
            kinds = {first_kind[i], second_kind[i]} if two_quals[i] else {first_kind[i]}
            quals.extend(f"{i + 1}\t{_KINDS[k]}\t{expires}\n" for k in sorted(kinds))
        _copy(cur, "COPY qualifications (responder_id, kind, expires_on) FROM STDIN", quals)
        age_s = np.where(fresh, fresh_age_s, stale_age_s)
        _copy(
            cur,
            "COPY live_locations (responder_id, location, accuracy_m, updated_at) FROM STDIN",
            (
                f"{i + 1}\t{_point(lon[i], lat[i])}\t{10 + 30 * (i % 7)}\t"
                f"{(now - dt.timedelta(seconds=float(age_s[i]))).isoformat()}\n"
                for i in np.flatnonzero(fresh | stale).tolist()
            ),
        )
        rows: list[str] = []
        for i in np.flatnonzero(has_home).tolist():
            t = int(home_tpl[i])
            rows.append(
                f"{i + 1}\thome\t{_point(home_lon[i], home_lat[i])}\t{home_json[t]}\t"
                f"{home_ranges[t]}\n"
            )
        for i in np.flatnonzero(has_work).tolist():
            t = int(work_tpl[i])
            rows.append(
                f"{i + 1}\twork\t{_point(work_lon[i], work_lat[i])}\t{work_json[t]}\t"
                f"{work_ranges[t]}\n"
            )
        places = len(rows)
        _copy(
            cur, "COPY places (responder_id, kind, location, windows, available) FROM STDIN", rows
        )
        _copy(
            cur,
            "COPY devices (responder_id, fcm_token, platform) FROM STDIN",
            (
                f"{i}\tfcm-bench-{i}\t{'ios' if i % 10 < 3 else 'android'}\n"
                for i in range(1, n + 1)
            ),
        )
        aeds = _seed_aeds(cur, router, rng)
        history = _seed_history(cur, n, rng)
        for _, definition in gist:
            cur.execute(definition)
        conn.commit()
    with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return Seeded(
        volunteers=n,
        in_city=n_city,
        live_fresh=int(fresh.sum()),
        places=places,
        aeds=aeds,
        history_alerts=history,
        seconds=time.perf_counter() - began,
    )


def _seed_aeds(cur: psycopg.Cursor, router: GraphRouter, rng: np.random.Generator) -> int:
    c_lat, c_lon = street_points(router, CITY_AEDS, rng, jitter_m=15.0)
    k_lat, k_lon = _country_points(COUNTRY_AEDS, rng)
    lat, lon = np.concatenate([c_lat, k_lat]), np.concatenate([c_lon, k_lon])
    hours_json = json.dumps(_AED_HOURS)
    hours_range = _multirange(_AED_HOURS)
    rows = []
    for i in range(len(lat)):
        roll = rng.random()
        access, hours, minutes = "public", "[]", "{}"
        if roll < 0.25:
            access, hours, minutes = "restricted", hours_json, hours_range
        status = "out" if rng.random() < 0.05 else "in_service"
        code = f"{rng.integers(1000, 9999)}" if rng.random() < 0.4 else "\\N"
        rows.append(
            f"{_point(lon[i], lat[i])}\tAED {i}\t{access}\t{hours}\t{minutes}\t{code}\t{status}\n"
        )
    _copy(
        cur,
        "COPY aeds (location, description, access, opening_hours, open_minutes, cabinet_code, "
        "status) FROM STDIN",
        rows,
    )
    return len(rows)


def _seed_history(cur: psycopg.Cursor, n: int, rng: np.random.Generator) -> int:
    """A month of closed incidents with ~10 alerts each; the newest within the last day."""
    cur.execute(
        """
        INSERT INTO incidents (kind, location, source, status, wave, radius_m, created_at,
                               updated_at, ended_at)
        SELECT 'cardiac_arrest',
               ST_SetSRID(ST_MakePoint(%(x0)s + random() * %(dx)s, %(y0)s + random() * %(dy)s),
                          4326)::geography,
               'dispatch', 'closed', 1, 1000, t, t, t + interval '20 minutes'
        FROM (SELECT now() - random() * interval '30 days' AS t
              FROM generate_series(1, %(k)s)) s
        """,
        {
            "x0": BOX[0],
            "y0": BOX[1],
            "dx": BOX[2] - BOX[0],
            "dy": BOX[3] - BOX[1],
            "k": HISTORY_INCIDENTS,
        },
    )
    cur.execute(
        """
        INSERT INTO alerts (incident_id, responder_id, wave, role, walk_seconds, straight_m,
                            status, expires_at, created_at, updated_at)
        SELECT i.id, 1 + floor(random() * %(n)s)::bigint, 1,
               CASE WHEN random() < 0.33 THEN 'direct' ELSE 'via_aed' END,
               60 + random() * 300, 100 + random() * 900,
               (ARRAY['declined', 'expired', 'stood_down', 'arrived'])[1 + floor(random() * 4)],
               i.created_at + interval '5 minutes', i.created_at, i.created_at
        FROM incidents i, generate_series(1, 10)
        WHERE i.status = 'closed'
        ON CONFLICT (incident_id, responder_id) DO NOTHING
        """,
        {"n": n},
    )
    return cur.rowcount


def operator_token(url: str) -> str:
    """A new operator's bearer token, made as `ehbo operators create` makes one."""

    async def create() -> str:
        db = await Database.open(DatabaseSettings(url=url, connections=2))
        try:
            return (await create_operator(db, "bench", "operator")).token
        finally:
            await db.close()

    return asyncio.run(create())


def responder_tokens(conn: psycopg.Connection, ids: Sequence[int]) -> list[str]:
    """A new volunteer token for each of `ids`, stored by digest with COPY; the tokens."""
    tokens = [new_token("rs") for _ in ids]
    with conn.cursor().copy("COPY responder_tokens (responder_id, token_hash) FROM STDIN") as copy:
        for rid, token in zip(ids, tokens, strict=True):
            copy.write_row((rid, hash_token(token)))
    return tokens
