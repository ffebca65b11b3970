"""Shared bench plumbing: a throwaway database, a server process, wrk, a printed table."""

from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
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
_WRK_SCRIPT = Path(__file__).with_name("locations.lua")


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
    """Commits wait for their WAL flush, as on a production server. The embedded cluster
    commits durably already (a 201 means on disk); a server named by DATABASE_URL may not,
    and a bench must not measure that shortcut."""
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
        wait_up(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(20)


def wait_up(
    url: str, process: subprocess.Popen[bytes], path: str = "/health", timeout_s: float = 120.0
) -> None:
    """Until `path` answers 200 (a server process starting up)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server exited during start-up")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}{path}", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the server did not answer {path}")


def run_wrk(
    url: str, tokens: Iterable[str], connections: int, duration_s: float
) -> dict[str, float] | None:
    """wrk putting live locations as these volunteers in turn (`locations.lua`): it is C and
    leaves the cores to the service. Its figures (`parse_wrk`), None when not installed."""
    if not shutil.which("wrk"):
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as listing:
        listing.write("\n".join(tokens))
        listing.flush()
        argv = ["wrk", "-t1", f"-c{connections}", "--latency", "-s", str(_WRK_SCRIPT)]
        argv += [f"-d{duration_s:.0f}s", url]
        out = subprocess.run(
            argv,
            env={**os.environ, "EHBO_BENCH_TOKENS": listing.name},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    return parse_wrk(out)


def parse_wrk(out: str) -> dict[str, float]:
    """wrk's summary: requests/s, p50 and p99 in ms, requests, non-2xx/3xx answers."""

    def found(pattern: str, text: str) -> re.Match[str]:
        match = re.search(pattern, text)
        if match is None:
            raise ValueError(f"wrk's summary has no {pattern!r}: {out}")
        return match

    def wrk_ms(text: str) -> float:
        value, unit = found(r"^([\d.]+)(us|ms|s)", text).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    rate = float(found(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = wrk_ms(found(r"50%\s+(\S+)", out).group(1))
    p99 = wrk_ms(found(r"99%\s+(\S+)", out).group(1))
    requests = float(found(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rate": rate,
        "p50": p50,
        "p99": p99,
        "requests": requests,
        "errors": float(errors.group(1)) if errors else 0.0,
    }


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


def ms(values: Sequence[float], q: float) -> float:
    """The q-th percentile of `values` (seconds) in milliseconds; q=50 is the true median."""
    return (median(values) if q == 50 else percentile(values, q)) * 1000


def ratio(ours: float, alternative: float, higher_is_better: bool = False) -> str:
    """How many times better ours is: above 1x ours wins, below 1x the alternative does."""
    if ours <= 0 or alternative <= 0:
        return "—"
    return f"{(ours / alternative if higher_is_better else alternative / ours):.1f}x"


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
