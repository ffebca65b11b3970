"""Shared bench plumbing: a throwaway database, a server process, a printed table."""

from __future__ import annotations

import contextlib
import math
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import psycopg
from psycopg import sql

from responders.db.bootstrap import create_database, drop_database
from responders.db.cluster import Cluster
from responders.db.listen import libpq_dsn
from responders.db.migrate import upgrade
from responders.settings import DatabaseSettings

ROOT = Path(__file__).resolve().parents[1]
SHARED_OSM = ROOT.parent / "shared" / "osm"


@contextlib.contextmanager
def bench_database(name: str) -> Iterator[str]:
    """A fresh migrated database on DATABASE_URL's server or the embedded cluster."""
    configured = DatabaseSettings().url
    cluster = None
    if configured:
        server = configured
    else:
        cluster = Cluster(ROOT / ".pg")
        started = cluster.ensure_running()
        server = cluster.url("postgres")
    url = server.rsplit("/", 1)[0] + f"/{name}"
    drop_database(url)
    create_database(url)
    _durable(url, name)
    upgrade(url)
    try:
        yield url
    finally:
        drop_database(url)
        if cluster is not None and started:
            cluster.stop()


def _durable(url: str, name: str) -> None:
    """Commits wait for their WAL flush, as on a production server: the embedded cluster
    turns that off for the tests' sake, and a bench must not measure that shortcut."""
    with psycopg.connect(libpq_dsn(url, "postgres"), autocommit=True) as c:
        c.execute(
            sql.SQL("ALTER DATABASE {} SET synchronous_commit = on").format(sql.Identifier(name))
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def api_server(env: dict[str, str], workers: int = 2) -> Iterator[str]:
    """The service under uvicorn in its own processes, as in production."""
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "responders.api.asgi:app_from_env",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
        "--loop",
        "uvloop",
        "--http",
        "httptools",
    ]
    process = subprocess.Popen(argv, env={**os.environ, **env}, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(20)


def _wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server exited during start-up")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError("the server did not become healthy")


def cpu_reference_ms() -> float:
    """A fixed pure-Python loop, best of 3: this shared VM's speed drifts by up to 1.7x
    within an hour, so benches print it beside their figures to make runs comparable."""
    best = math.inf
    for _ in range(3):
        began = time.perf_counter()
        total = 0
        for i in range(2_000_000):
            total += i
        best = min(best, time.perf_counter() - began)
    return best * 1000


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [list(map(str, header))] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [title, "  ".join(h.ljust(w) for h, w in zip(cells[0], widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells[1:]]
    return "\n".join(lines)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)
