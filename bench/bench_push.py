"""Push delivery: dispatch commit → the FCM server's 200 (and the Web Push service's 201),
and alerts per second.

    python bench/bench_push.py [--incidents 60] [--backlog 200]

Everything runs as in production, each part in its own process on loopback: the local FCM
server (`python -m responders.emulators.fcm`, the FCM HTTP v1 wire protocol), one or two
outbox workers (`OutboxWorker`, each its own `Database` and `PushClient` on firebase-admin,
woken by LISTEN/NOTIFY), PostgreSQL, and this script, which plays the dispatcher: it writes
an incident's 30 alerts and their outbox rows in one transaction, as a dispatch wave does,
and notes `time.time()` right after the commit returns. The FCM server stamps every message
it accepts (`received_at_unix`, same clock), so commit → 200 is measured per alert.

- latency: incidents of 30 alerts (70 % Android, 30 % iOS devices), one at a time, each
  after the previous one was fully recorded by the worker;
- throughput: a backlog of incidents x 30 alerts committed at once; alerts per second from
  the commit to the last push accepted, with 1 and 2 worker processes;
- the obvious alternative: the same worker process sending the pushes one by one with
  `messaging.send()` on the same client, instead of `send_each` (one batch, concurrent);
  and, without the database, one batch of 30 through the client both ways;
- "FCM far away": the same, with the local server answering each send after 40 ms (its
  latency knob), as Google's FCM does seen from a data centre. On loopback a send costs
  about a millisecond of CPU, so concurrency has nothing to hide there; at 40 ms it does.

- Web Push beside FCM: the same latency and throughput runs to volunteers whose devices
  are Web Push subscriptions on the local push service (`python -m
  responders.emulators.webpush`, RFC 8030; it stamps each message it accepts), each push
  encrypted (aes128gcm) and VAPID-signed by the worker's `WebPushClient`.

Ours and the alternative run in alternating rounds, so drift in the machine's load hits
both alike. The two sides never run at the same time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
import psycopg
from _common import bench_database, free_port, ms, ratio, table, wait_up
from firebase_admin import exceptions, messaging

from responders.db.gateway import Database
from responders.db.listen import libpq_dsn
from responders.delivery import OutboxWorker
from responders.delivery.process import fcm_config, webpush_client
from responders.push import Deliverer, PushClient, PushMessage, SendOutcome, SendResult
from responders.push.fcm import result_from_exception
from responders.settings import DatabaseSettings, PushSettings, WebPushSettings

PROJECT = "ehbo-bench"
VOLUNTEERS = 3_000
WEB_VOLUNTEERS = 300  # each with a Web Push subscription on the local push service
WAVE = 30
TTL_S = 300


# --------------------------------------------------------------------------- worker process


class SequentialPushClient(PushClient):
    """The alternative: the same client, each push on its own with `messaging.send()`."""

    def _send_batch(self, batch: list[messaging.Message]) -> list[SendResult]:
        results = []
        for message in batch:
            try:
                results.append(SendResult(SendOutcome.SENT, messaging.send(message, app=self.app)))
            except exceptions.FirebaseError as exc:
                results.append(result_from_exception(exc))
        return results


def _settings(fcm_url: str) -> PushSettings:
    return PushSettings(project_id=PROJECT, endpoint=fcm_url, target_field="token")


async def _work(url: str, fcm_url: str, sequential: bool, vapid_file: str) -> None:
    # As `ehbo worker` opens it: one connection kept, the worker uses one at a time.
    db = await Database.open(DatabaseSettings(url=url, connections=2), min_size=1)
    settings = _settings(fcm_url)
    web = WebPushSettings(vapid_key_file=Path(vapid_file), allow_loopback=True)
    client = Deliverer(
        fcm=(SequentialPushClient if sequential else PushClient)(fcm_config(settings)),
        webpush=webpush_client(web),
    )
    try:
        await OutboxWorker(db, client, settings, TTL_S).run()
    finally:
        client.close()
        await db.close()


def worker_main(url: str, fcm_url: str, sequential: bool, vapid_file: str) -> None:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_work(url, fcm_url, sequential, vapid_file))


@contextlib.contextmanager
def workers(
    url: str, fcm_url: str, vapid_file: str, count: int, sequential: bool = False
) -> Iterator[None]:
    argv = [sys.executable, __file__, "--worker", url, fcm_url, "--vapid-file", vapid_file]
    if sequential:
        argv.append("--sequential")
    procs = [subprocess.Popen(argv, stdin=subprocess.DEVNULL) for _ in range(count)]
    try:
        yield
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(20)


# --------------------------------------------------------------------------- FCM server


class Fcm:
    """The local FCM server in a process of its own, and its admin API."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [sys.executable, "-m", "responders.emulators.fcm", "--port", str(self.port)]
        self._proc = subprocess.Popen([*argv, "--project-id", PROJECT], stdin=subprocess.DEVNULL)
        self.admin = httpx.Client(base_url=self.url, timeout=30)
        wait_up(self.url, self._proc, "/_admin/stats", timeout_s=30)

    def accepted(self) -> int:
        return int(self.admin.get("/_admin/stats").json()["outcomes"].get("OK", 0))

    def wait_for(self, count: int, timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        while self.accepted() < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the FCM server got {self.accepted()} of {count} pushes")
            time.sleep(0.05)

    def received(self) -> dict[int, float]:
        """alert id → when the server accepted its push (UNIX seconds)."""
        messages = self.admin.get("/_admin/messages").json()["messages"]
        return {
            int(m["message"]["data"]["alert_id"]): float(m["received_at_unix"]) for m in messages
        }

    def clear(self) -> None:
        self.admin.delete("/_admin/messages")

    def close(self) -> None:
        self.admin.close()
        self._proc.terminate()
        self._proc.wait(20)


# --------------------------------------------------------------------------- Web Push


class WebPush:
    """The local Web Push service in a process of its own, and its admin API. It makes each
    subscription's keys, so it can read (and show us) what arrived."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [sys.executable, "-m", "responders.emulators.webpush", "--port", str(self.port)]
        self._proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL)
        self.admin = httpx.Client(base_url=self.url, timeout=60)
        wait_up(self.url, self._proc, "/_admin/subscriptions", timeout_s=30)

    def subscribe(self) -> dict[str, str]:
        made = self.admin.post("/_admin/subscriptions", json={}).json()
        return {"endpoint": made["endpoint"], **made["keys"]}

    def received(self) -> dict[int, float]:
        """alert id → when the service accepted its push (UNIX seconds)."""
        messages = self.admin.get("/_admin/messages").json()["messages"]
        return {
            int(m["payload"]["alert_id"]): float(m["received_at_unix"])
            for m in messages
            if m["payload"] is not None
        }

    def clear(self) -> None:
        self.admin.delete("/_admin/messages")

    def close(self) -> None:
        self.admin.close()
        self._proc.terminate()
        self._proc.wait(20)


def seed_webpush(url: str, service: WebPush) -> int:
    """The Web Push volunteers, each with one subscription; the first one's id."""
    subscriptions = [service.subscribe() for _ in range(WEB_VOLUNTEERS)]
    with psycopg.connect(libpq_dsn(url)) as conn:
        ids = [
            r[0]
            for r in conn.execute(
                """
                INSERT INTO responders (name, phone, email)
                SELECT 'Web volunteer ' || n, '+358 40 000 0000', 'web' || n || '@bench.example'
                FROM generate_series(1, %(n)s) n ORDER BY n RETURNING id
                """,
                {"n": WEB_VOLUNTEERS},
            )
        ]
        conn.cursor().executemany(
            "INSERT INTO devices (responder_id, kind, platform, endpoint, p256dh, auth)"
            " VALUES (%s, 'webpush', 'web', %s, %s, %s)",
            [
                (rid, s["endpoint"], s["p256dh"], s["auth"])
                for rid, s in zip(ids, subscriptions, strict=True)
            ],
        )
    assert ids == list(range(ids[0], ids[0] + WEB_VOLUNTEERS))
    return ids[0]


# --------------------------------------------------------------------------- the dispatcher


def seed(url: str) -> None:
    with psycopg.connect(libpq_dsn(url)) as conn:
        conn.execute(
            """
            WITH people AS (
                INSERT INTO responders (name, phone, email)
                SELECT 'Volunteer ' || n, '+358 40 000 0000', 'push' || n || '@bench.example'
                FROM generate_series(1, %(n)s) n RETURNING id
            )
            INSERT INTO devices (responder_id, fcm_token, platform)
            SELECT id, 'fcm-bench-' || id || '-' || md5(id::text),
                   CASE WHEN id %% 10 < 3 THEN 'ios' ELSE 'android' END
            FROM people
            """,
            {"n": VOLUNTEERS},
        )


_INCIDENTS = """
    INSERT INTO incidents (kind, location, address, source, status, wave, radius_m)
    SELECT 'cardiac_arrest', ST_SetSRID(ST_MakePoint(24.94 + random() / 100,
                                                     60.17 + random() / 100), 4326)::geography,
           'Benchkatu ' || n, 'dispatch', 'active', 1, 1000
    FROM generate_series(1, %(count)s) n RETURNING id
"""
# 30 different volunteers per incident, as a wave writes them: alerts, then their outbox rows.
_ALERTS = """
    INSERT INTO alerts (incident_id, responder_id, wave, role, walk_seconds, straight_m,
                        expires_at)
    SELECT i.id, %(first)s + (i.id * 37 + k) %% %(volunteers)s, 1,
           CASE WHEN k %% 3 = 0 THEN 'direct' ELSE 'via_aed' END, 60 + 10 * k, 50 + 20 * k,
           now() + make_interval(secs => %(ttl)s)
    FROM unnest(%(incidents)s::bigint[]) AS i(id), generate_series(0, %(wave)s - 1) k
    ORDER BY i.id, k
    RETURNING id, incident_id
"""
_OUTBOX = """
    INSERT INTO outbox (alert_id, kind, expires_at)
    SELECT a.id, 'alert', a.expires_at FROM alerts a WHERE a.id = ANY(%(ids)s)
    ORDER BY a.id
"""


@dataclass(frozen=True)
class Crowd:
    """Whom a wave alerts: volunteers `first` .. `first + count - 1`."""

    first: int = 1
    count: int = VOLUNTEERS


def dispatch(
    conn: psycopg.Connection, incidents: int, crowd: Crowd = Crowd()
) -> tuple[float, dict[int, int]]:
    """`incidents` x 30 alerts and outbox rows in one transaction; (commit time, alert →
    incident)."""
    with conn.transaction():
        ids = [r[0] for r in conn.execute(_INCIDENTS, {"count": incidents})]
        params = {
            "incidents": ids,
            "first": crowd.first,
            "volunteers": crowd.count,
            "ttl": TTL_S,
            "wave": WAVE,
        }
        rows = conn.execute(_ALERTS, params).fetchall()
        conn.execute(_OUTBOX, {"ids": [r[0] for r in rows]})
    return time.time(), {alert: incident for alert, incident in rows}


def outbox_empty(conn: psycopg.Connection, timeout_s: float = 60.0) -> None:
    """Until every outbox row is sent and recorded (the worker's transaction committed)."""
    deadline = time.monotonic() + timeout_s
    while conn.execute("SELECT EXISTS (SELECT 1 FROM outbox)").fetchone() != (False,):
        if time.monotonic() > deadline:
            raise RuntimeError("the outbox did not drain")
        time.sleep(0.01)


def retire(conn: psycopg.Connection) -> None:
    conn.execute("UPDATE incidents SET status = 'closed', ended_at = now() WHERE status = 'active'")


# --------------------------------------------------------------------------- measurements


@dataclass
class Latency:
    per_alert: list[float]  # seconds, commit → the FCM server's 200
    last_of_wave: list[float]  # per incident, commit → the last of its 30


def _warm_up(conn: psycopg.Connection, fcm: Fcm) -> None:
    """One wave through, then forgotten: connections and thread pools are up."""
    dispatch(conn, 1)
    fcm.wait_for(fcm.accepted() + WAVE)
    outbox_empty(conn)
    fcm.clear()


def _collect(conn: psycopg.Connection, fcm: Fcm) -> dict[int, float]:
    """When the FCM server received each alert; then a clean slate."""
    received = fcm.received()
    fcm.clear()
    retire(conn)
    return received


def latency(conn: psycopg.Connection, fcm: Fcm, incidents: int) -> Latency:
    _warm_up(conn, fcm)
    commits: dict[int, float] = {}
    alert_incident: dict[int, int] = {}
    for _ in range(incidents):
        before = fcm.accepted()
        committed, alerts = dispatch(conn, 1)
        commits[next(iter(alerts.values()))] = committed
        alert_incident |= alerts
        fcm.wait_for(before + WAVE)
        outbox_empty(conn)
        time.sleep(0.05)
    return _per_alert(commits, alert_incident, _collect(conn, fcm))


@dataclass
class Throughput:
    alerts: int
    seconds: float  # commit → the last push accepted

    @property
    def rate(self) -> float:
        return self.alerts / self.seconds


def throughput(conn: psycopg.Connection, fcm: Fcm, backlog: int) -> Throughput:
    _warm_up(conn, fcm)
    before = fcm.accepted()
    committed, alerts = dispatch(conn, backlog)
    fcm.wait_for(before + len(alerts), timeout_s=300)
    outbox_empty(conn)
    received = _collect(conn, fcm)
    return Throughput(len(alerts), max(received[a] for a in alerts) - committed)


def _per_alert(
    commits: dict[int, float], alert_incident: dict[int, int], received: dict[int, float]
) -> Latency:
    per_alert = []
    last: dict[int, float] = {}
    for alert, incident in alert_incident.items():
        seconds = received[alert] - commits[incident]
        per_alert.append(seconds)
        last[incident] = max(last.get(incident, 0.0), seconds)
    return Latency(per_alert, list(last.values()))


def web_latency(conn: psycopg.Connection, web: WebPush, crowd: Crowd, incidents: int) -> Latency:
    """As `latency`, to Web Push devices. The worker records a batch once every push of it
    was answered, so an empty outbox means the service took all 30."""
    dispatch(conn, 1, crowd)  # warm-up: connections, thread pool, the VAPID header
    outbox_empty(conn)
    web.clear()
    commits: dict[int, float] = {}
    alert_incident: dict[int, int] = {}
    for _ in range(incidents):
        committed, alerts = dispatch(conn, 1, crowd)
        commits[next(iter(alerts.values()))] = committed
        alert_incident |= alerts
        outbox_empty(conn)
        time.sleep(0.05)
    received = web.received()
    web.clear()
    retire(conn)
    return _per_alert(commits, alert_incident, received)


def web_throughput(
    conn: psycopg.Connection, web: WebPush, crowd: Crowd, backlog: int
) -> Throughput:
    committed, alerts = dispatch(conn, backlog, crowd)
    outbox_empty(conn, timeout_s=300)
    received = web.received()
    web.clear()
    retire(conn)
    assert set(alerts) <= set(received), "every push reached the service"
    return Throughput(len(alerts), max(received[a] for a in alerts) - committed)


def client_batches(fcm: Fcm, rounds: int) -> tuple[list[float], list[float]]:
    """One wave of 30 through the client: send_each (ours) and one by one (alternative)."""
    config = fcm_config(_settings(fcm.url))
    ours, alternative = PushClient(config), SequentialPushClient(config)
    wave = [
        PushMessage(
            token=f"fcm-bench-client-{k}",
            platform="ios" if k % 10 < 3 else "android",
            kind="alert",
            alert_id=k,
            incident_id=1,
            role="direct" if k % 3 == 0 else "via_aed",
            title="Cardiac arrest nearby — can you help?",
            body="About 2 min on foot. Tap to answer.",
            ttl_s=TTL_S,
        )
        for k in range(WAVE)
    ]
    times: tuple[list[float], list[float]] = ([], [])
    try:
        for round_ in range(rounds + 3):
            for client, out in ((ours, times[0]), (alternative, times[1])):
                began = time.perf_counter()
                results = client.send(wave)
                elapsed = time.perf_counter() - began
                assert all(r.outcome is SendOutcome.SENT for r in results), results[:1]
                if round_ >= 3:
                    out.append(elapsed)
    finally:
        ours.close()
        alternative.close()
        fcm.clear()
    return times


# --------------------------------------------------------------------------- report


FAR_FCM_S = 0.04  # FCM's answer time seen from a data centre, injected for one scenario
FAR_INCIDENTS = 10
FAR_BACKLOG = 20  # incidents of 30: one by one, 600 pushes take ~25 s at 40 ms each

# (key, worker processes, one by one?, latency incidents as a share of --incidents, backlog?)
_PLAN = (
    ("ours", 1, False, 0.5, True),
    ("alt", 1, True, 0.5, True),
    ("ours", 1, False, 0.5, False),  # a second round each, so drift hits both sides alike
    ("alt", 1, True, 0.5, False),
    ("ours2", 2, False, 1.0, True),
    ("alt2", 2, True, 0.0, True),
)


# The local push service keeps at most 10,000 messages (and 100 per subscription).
WEB_MAX_BACKLOG = 300


@dataclass
class Results:
    latency: dict[str, Latency]
    rate: dict[str, Throughput]
    batches: tuple[list[float], list[float]]


def run_all(incidents: int, backlog: int) -> Results:
    fcm, web = Fcm(), WebPush()
    vapid_dir = tempfile.TemporaryDirectory(prefix="ehbo-bench-vapid-")
    vapid = str(Path(vapid_dir.name) / "vapid.pem")
    lat: dict[str, Latency] = {}
    rate: dict[str, Throughput] = {}

    def phase(key: str, count: int, sequential: bool, n: int, drain: int) -> None:
        with workers(url, fcm.url, vapid, count, sequential):
            time.sleep(1.0)  # LISTEN established; the warm-up wave covers the rest
            if n:
                got = latency(conn, fcm, n)
                mine = lat.setdefault(key, Latency([], []))
                mine.per_alert += got.per_alert
                mine.last_of_wave += got.last_of_wave
            if drain:
                rate[key] = throughput(conn, fcm, drain)
        print(f"{key}: {count} worker(s), one by one: {sequential}, done", flush=True)

    try:
        with (
            bench_database("ehbo_bench_push") as url,
            psycopg.connect(libpq_dsn(url), autocommit=True) as conn,
        ):
            seed(url)
            for key, count, sequential, share, drain in _PLAN:
                phase(key, count, sequential, round(incidents * share), backlog if drain else 0)
            crowd = Crowd(seed_webpush(url, web), WEB_VOLUNTEERS)
            with workers(url, fcm.url, vapid, 1):
                time.sleep(1.0)
                lat["web"] = web_latency(conn, web, crowd, incidents)
                rate["web"] = web_throughput(conn, web, crowd, min(backlog, WEB_MAX_BACKLOG))
            print("web: 1 worker, Web Push devices, done", flush=True)
            fcm.admin.put("/_admin/latency", json={"seconds": FAR_FCM_S})
            phase("ours_far", 1, False, FAR_INCIDENTS, FAR_BACKLOG)
            phase("alt_far", 1, True, FAR_INCIDENTS, FAR_BACKLOG)
            fcm.admin.put("/_admin/latency", json={"seconds": 0})
        batches = client_batches(fcm, rounds=incidents)
    finally:
        fcm.close()
        web.close()
        vapid_dir.cleanup()
    return Results(lat, rate, batches)


def report(r: Results, incidents: int) -> list[tuple[object, ...]]:
    size = f"{incidents} incidents x {WAVE} alerts"
    rows: list[tuple[object, ...]] = []
    lat = r.latency

    def pair(label: str, ours: str, alt: str | None, attr: str, q: float, work: str) -> None:
        a = ms(getattr(lat[ours], attr), q)
        b = ms(getattr(lat[alt], attr), q) if alt else None
        rows.append((label, work, a, "—" if b is None else b, "—" if b is None else ratio(a, b)))

    for attr, what in (("per_alert", "each alert"), ("last_of_wave", "the last of 30")):
        for q in (50, 95):
            pair(f"commit → FCM 200, {what}, p{q} (ms)", "ours", "alt", attr, q, size)
    for attr, what in (("per_alert", "each alert"), ("last_of_wave", "the last of 30")):
        pair(f"commit → FCM 200, {what}, p95, 2 workers (ms)", "ours2", None, attr, 95, size)
    far = f"{FAR_INCIDENTS} incidents, FCM answers after {FAR_FCM_S * 1000:.0f} ms"
    for q in (50, 95):
        pair(
            f"commit → the last of 30, FCM far away, p{q} (ms)",
            "ours_far",
            "alt_far",
            "last_of_wave",
            q,
            far,
        )
    for key, alt, label in (
        ("ours", "alt", "1 worker"),
        ("ours2", "alt2", "2 workers"),
        ("ours_far", "alt_far", "1 worker, FCM far away"),
    ):
        got, other = r.rate[key], r.rate[alt]
        rows.append(
            (
                f"alerts per second, {label}",
                f"backlog of {got.alerts:,} alerts committed at once",
                got.rate,
                other.rate,
                ratio(got.rate, other.rate, higher_is_better=True),
            )
        )
    batch_ours, batch_alt = r.batches
    for q in (50, 95):
        a, b = ms(batch_ours, q), ms(batch_alt, q)
        rows.append(
            (
                f"client only: one wave of 30 sent, p{q} (ms)",
                f"{len(batch_ours)} waves, no database",
                a,
                b,
                ratio(a, b),
            )
        )
    return rows


def channels_report(r: Results, incidents: int) -> list[tuple[object, ...]]:
    """FCM beside Web Push: the same worker, one process, each channel's own devices."""
    rows: list[tuple[object, ...]] = []
    fcm, web = r.latency["ours"], r.latency["web"]
    for attr, what in (("per_alert", "each alert"), ("last_of_wave", "the last of 30")):
        for q in (50, 95):
            rows.append(
                (
                    f"commit → push service 2xx, {what}, p{q} (ms)",
                    f"{incidents} incidents x {WAVE} alerts",
                    ms(getattr(fcm, attr), q),
                    ms(getattr(web, attr), q),
                )
            )
    fcm_rate, web_rate = r.rate["ours"], r.rate["web"]
    rows.append(
        (
            "alerts per second, 1 worker",
            f"backlog: FCM {fcm_rate.alerts:,}, Web Push {web_rate.alerts:,} alerts",
            fcm_rate.rate,
            web_rate.rate,
        )
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=60)
    parser.add_argument("--backlog", type=int, default=200, help="incidents of 30 at once")
    parser.add_argument("--worker", nargs=2, metavar=("DB_URL", "FCM_URL"), help=argparse.SUPPRESS)
    parser.add_argument("--sequential", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--vapid-file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        db_url, fcm_url = args.worker
        worker_main(db_url, fcm_url, sequential=args.sequential, vapid_file=args.vapid_file)
        return
    results = run_all(args.incidents, args.backlog)
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print()
    print(
        table(
            "Push delivery (ours: send_each, one concurrent batch per claim; alternative: "
            "messaging.send() one by one, same client); worker processes, FCM server and "
            "database in separate processes, loopback",
            ["figure", "workload", "ours", "alternative", "ratio"],
            report(results, args.incidents),
        )
    )
    print("ratio: how many times better ours is (below 1x: the alternative is better)")
    print()
    print(
        table(
            "Push channels side by side (ours, 1 worker process): FCM (firebase-admin, local "
            "FCM server's 200) and Web Push (pywebpush, aes128gcm + VAPID, local RFC 8030 "
            "service's 201), loopback",
            ["figure", "workload", "FCM", "Web Push"],
            channels_report(results, args.incidents),
        )
    )
    p95_one = ms(results.latency["ours"].last_of_wave, 95)
    p95_two = ms(results.latency["ours2"].last_of_wave, 95)
    print(
        f"\ntarget: p95 commit → last of 30 <= 150 ms on loopback -> "
        f"{'met' if p95_one <= 150 else 'NOT met'} ({p95_one:.0f} ms with 1 worker process, "
        f"{p95_two:.0f} ms with 2)"
    )


if __name__ == "__main__":
    main()
