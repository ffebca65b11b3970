"""Abuse limits: 429 with Retry-After, and operators keep working through a report flood."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Sequence

import httpx
import pytest
import pytest_asyncio
import uvicorn
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request

from responders.api import create_app
from responders.api.clients import ClientAddresses
from responders.api.limits import TokenBuckets
from responders.runner import server_config
from responders.settings import ApiSettings, LimitSettings, RoutingSettings, Settings
from routing import Point, Route, Router, Walks
from tests.api.test_responders import register, volunteer
from tests.helpers import place_volunteer
from tests.live import bound_socket

HELSINKI = {"lat": 60.1699, "lon": 24.9384}


@pytest_asyncio.fixture(loop_scope="session")
async def app(
    settings: Settings,
    helsinki_router: Router,
    clean_db: AsyncEngine,
) -> AsyncIterator[FastAPI]:
    """The limited app under the shared fixture's name, so `operator_headers` comes from it
    instead of starting an unlimited app beside it."""
    limits = LimitSettings(
        reports_per_client_per_minute=2,
        reports_per_area_per_minute=5,
        registrations_per_client_per_hour=3,
        location_updates_per_volunteer_per_minute=4,
        routes_per_volunteer_per_minute=3,
        routes_per_operator_per_minute=5,
        report_concurrency=2,
        registration_concurrency=2,
    )
    limited = create_app(settings.model_copy(update={"limits": limits}), router=helsinki_router)
    async with limited.router.lifespan_context(limited):
        yield limited


def _client(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


def _report(**location: float) -> dict[str, object]:
    return {"kind": "unconscious", "location": {**HELSINKI, **location}}


async def test_reports_per_client(app: FastAPI) -> None:
    async with _client(app, "10.0.0.1") as http:
        codes = [(await http.post("/reports", json=_report())).status_code for _ in range(3)]
        assert codes == [201, 201, 429]
        refused = await http.post("/reports", json=_report())
    assert refused.json()["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) >= 1


async def _triage(app: FastAPI, headers: dict[str, str]) -> dict[int, dict[str, object]]:
    async with _client(app, "10.9.9.8") as http:
        listed = await http.get("/incidents?status=triage", headers=headers)
    return {incident["id"]: incident for incident in listed.json()}


async def test_a_flooded_area_flags_its_reports_and_refuses_none(
    app: FastAPI, operator_headers: dict[str, str]
) -> None:
    """Issue 12 #13: fake reports from 8 addresses into one ~1 km cell made a genuine
    cardiac-arrest report there get 429. Now it is accepted, and the flood is grouped and
    flagged in the triage queue instead."""
    fakes = []
    for n in range(16):  # 8 addresses x their own limit of 2: over the area's 5 a minute
        async with _client(app, f"10.0.1.{n % 8}") as http:
            fakes.append(await http.post("/reports", json=_report(lat=60.1695 + n * 1e-5)))
    assert [r.status_code for r in fakes] == [201] * 16
    async with _client(app, "10.0.1.200") as http:
        genuine = await http.post("/reports", json={"kind": "cardiac_arrest", "location": HELSINKI})
        elsewhere = await http.post("/reports", json=_report(lat=60.1760, lon=24.9480))
    assert genuine.status_code == 201, genuine.text
    assert elsewhere.status_code == 201

    triage = await _triage(app, operator_headers)
    flagged = triage[genuine.json()["id"]]
    assert flagged["flood_suspected"] is True
    assert flagged["flood_group"] == "60.1600,24.9300"
    # The whole minute's reports of that area form one group, the first ones included.
    assert {triage[r.json()["id"]]["flood_group"] for r in fakes} == {"60.1600,24.9300"}
    assert triage[elsewhere.json()["id"]]["flood_suspected"] is False
    assert triage[elsewhere.json()["id"]]["flood_group"] is None


async def test_registrations_never_take_a_reports_slot(app: FastAPI, clean_db: AsyncEngine) -> None:
    """Issue 12 #13: 10 concurrent registrations from one address made a genuine report get
    429 "service is busy". The registrations are held inside their slots here (their
    INSERT waits on a table lock) while the report comes in."""
    async with clean_db.connect() as blocker:
        await blocker.begin()
        await blocker.execute(text("LOCK TABLE responders IN EXCLUSIVE MODE"))

        async def registration(n: int) -> int:
            # 10 at once, each address within its own limit (3 an hour here).
            async with _client(app, f"10.0.4.{n // 3}") as http:
                body = volunteer(email=f"flood{n}@example.org", device=None)
                return (await http.post("/responders", json=body)).status_code

        registrations = [asyncio.create_task(registration(n)) for n in range(10)]
        await _until_waiting_on_locks(clean_db, 2)
        async with _client(app, "10.0.4.200") as http:
            report = await http.post(
                "/reports", json={"kind": "cardiac_arrest", "location": HELSINKI}
            )
        await blocker.rollback()
    codes = await asyncio.gather(*registrations)
    assert report.status_code == 201, report.text
    assert sorted(codes) == [201, 201] + [429] * 8


async def _until_waiting_on_locks(engine: AsyncEngine, count: int) -> None:
    for _ in range(200):
        async with engine.connect() as conn:
            waiting = (
                await conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                    )
                )
            ).scalar_one()
        if waiting >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"fewer than {count} requests waited on the lock")


async def test_registrations_per_client(app: FastAPI) -> None:
    async with _client(app, "10.0.2.1") as http:
        codes = [
            (
                await http.post(
                    "/responders", json=volunteer(email=f"r{n}@example.org", device=None)
                )
            ).status_code
            for n in range(4)
        ]
    assert codes == [201, 201, 201, 429]


async def test_location_updates_per_volunteer(app: FastAPI) -> None:
    async with _client(app, "10.0.3.1") as http:
        _, headers = await register(http)
        body = {"lat": 60.17, "lon": 24.94, "accuracy_m": 5}
        codes = [
            (await http.put("/responders/me/location", json=body, headers=headers)).status_code
            for _ in range(5)
        ]
    assert codes == [204] * 4 + [429]


async def test_report_flood_does_not_push_operators_out(
    app: FastAPI, operator_headers: dict[str, str]
) -> None:
    """300 reports at once from 300 addresses: operators still dispatch; every report is
    kept (none of them exceeded its own client's limit), and the flood is flagged."""

    async def citizen(n: int) -> int:
        async with _client(app, f"10.1.{n // 250}.{n % 250}") as http:
            lat = 60.165 + (n % 12) * 0.001
            return (await http.post("/reports", json=_report(lat=lat))).status_code

    async def operator() -> int:
        async with _client(app, "10.9.9.9") as http:
            response = await http.post(
                "/incidents",
                headers=operator_headers,
                json={"kind": "cardiac_arrest", "location": HELSINKI},
            )
            return response.status_code

    # Both report slots' connections opened first: under the flood the event loop is too
    # busy to finish a new connection's handshake within the connect timeout.
    assert await asyncio.gather(citizen(300), citizen(301)) == [201, 201]
    results = await asyncio.gather(*(citizen(n) for n in range(300)), operator(), operator())
    flood, operators = results[:-2], results[-2:]
    assert operators == [201, 201]
    assert set(flood) == {201}
    triage = await _triage(app, operator_headers)
    flagged = [i for i in triage.values() if i["flood_suspected"]]
    assert len(flagged) > len(triage) - len(flagged), "most of the flood is flagged"


def test_token_bucket_refills() -> None:
    buckets = TokenBuckets(rate=2, per_s=60, max_keys=10)
    assert [buckets.take("k", now=0.0) for _ in range(3)] == [0.0, 0.0, 30.0]
    assert buckets.take("k", now=30.0) == 0.0
    assert buckets.take("other", now=30.0) == 0.0


_ROUTE = "/route?from=60.1699,24.9384&to=60.1720,24.9410"


async def test_routes_per_caller(app: FastAPI, operator_headers: dict[str, str]) -> None:
    """Issue 12 #8: GET /route had no limit; one volunteer in a loop slowed every dispatch."""
    async with _client(app, "10.0.6.1") as http:
        _, looping = await register(http, email="loop@example.org", device=None)
        _, other = await register(http, email="other@example.org", device=None)
        codes = [(await http.get(_ROUTE, headers=looping)).status_code for _ in range(4)]
        refused = await http.get(_ROUTE, headers=looping)
        # Per caller: another volunteer, and operators (a wave's routes at once), go on.
        others = await http.get(_ROUTE, headers=other)
        operator = [
            (await http.get(_ROUTE, headers=operator_headers)).status_code for _ in range(6)
        ]
    assert codes == [200, 200, 200, 429]
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert "too many route requests" in refused.json()["detail"]
    assert int(refused.headers["Retry-After"]) >= 1
    assert others.status_code == 200
    assert operator == [200] * 5 + [429]


class _CountingRouter:
    """The real router; counts the routes drawn at once (each held a little longer, so
    that drawing side by side would show)."""

    def __init__(self, real: Router) -> None:
        self._real = real
        self._lock = threading.Lock()
        self.now = self.most = self.calls = 0

    def route(self, a: Point, b: Point, via: Point | None = None) -> Route:
        with self._lock:
            self.now += 1
            self.calls += 1
            self.most = max(self.most, self.now)
        try:
            time.sleep(0.02)
            return self._real.route(a, b, via)
        finally:
            with self._lock:
                self.now -= 1

    def walks_to(self, targets: Sequence[Point], max_seconds: float) -> Walks:
        return self._real.walks_to(targets, max_seconds)

    def covers(self, point: Point) -> bool:
        return self._real.covers(point)

    def landing(self, point: Point) -> tuple[Point, float]:
        return self._real.landing(point)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return self._real.bounds


async def test_routes_are_drawn_on_their_own_few_threads(
    settings: Settings,
    helsinki_router: Router,
    clean_db: AsyncEngine,
) -> None:
    """Issue 12 #8: routes (GET /route and a volunteer's alert, `views.fill_routes`) queue
    for the drawer's threads instead of taking the shared pool that dispatch competes with."""
    counting = _CountingRouter(helsinki_router)
    configured = settings.model_copy(
        update={"routing": RoutingSettings(route_threads=1, cache_dir=settings.routing.cache_dir)}
    )
    drawn = create_app(configured, router=counting)
    async with drawn.router.lifespan_context(drawn), _client(drawn, "10.0.7.1") as http:
        from tests.conftest import _operator_token

        operator = {"Authorization": f"Bearer {await _operator_token(settings, drawn, 'operator')}"}
        _, volunteer_headers = await place_volunteer(http, 60.1702, 24.9390)
        incident = await http.post(
            "/incidents",
            headers=operator,
            json={"kind": "cardiac_arrest", "location": HELSINKI},
        )
        (alert,) = incident.json()["alerts"]
        answers = await asyncio.gather(
            *(http.get(_ROUTE, headers=operator) for _ in range(8)),
            http.get(f"/alerts/{alert['id']}", headers=volunteer_headers),
        )
    assert [a.status_code for a in answers] == [200] * 9
    assert answers[-1].json()["route"]["type"] == "Feature"
    assert counting.calls == 9
    assert counting.most == 1


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(
    settings: Settings,
    helsinki_router: Router,
    clean_db: AsyncEngine,
) -> None:
    """Issue 12 #13: under `ehbo serve`'s uvicorn, X-Forwarded-For from any loopback peer
    chose the rate-limit key; three reports with three made-up addresses all went in."""
    limited = create_app(
        settings.model_copy(update={"limits": LimitSettings(reports_per_client_per_minute=2)}),
        router=helsinki_router,
    )
    sock, url = bound_socket()
    server = uvicorn.Server(server_config(limited, "127.0.0.1", 0))
    thread = threading.Thread(target=lambda: server.run(sockets=[sock]), daemon=True)
    thread.start()
    try:
        await asyncio.to_thread(_wait_until_started, server)
        async with httpx.AsyncClient(base_url=url) as http:
            codes = []
            for n in range(3):
                spoofed = {"X-Forwarded-For": f"192.0.2.{n}"}
                response = await http.post("/reports", json=_report(), headers=spoofed)
                codes.append(response.status_code)
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 10)
        sock.close()
    assert codes == [201, 201, 429]


def _wait_until_started(server: uvicorn.Server) -> None:
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)


def _request(peer: str, forwarded: list[str]) -> Request:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return Request({"type": "http", "client": (peer, 1234), "headers": headers})


def test_client_address_believes_only_trusted_proxies() -> None:
    nobody = ClientAddresses(ApiSettings().trusted_proxies)
    assert nobody.address(_request("127.0.0.1", ["203.0.113.9"])) == "127.0.0.1"

    proxies = ClientAddresses(ApiSettings(trusted_proxies="10.0.0.0/8, ::1").trusted_proxies)
    # Behind a proxy: the client is the hop the proxy appended.
    assert proxies.address(_request("10.1.2.3", ["203.0.113.9"])) == "203.0.113.9"
    # A client's own made-up hops left of it change nothing.
    assert proxies.address(_request("10.1.2.3", ["1.1.1.1, 203.0.113.9"])) == "203.0.113.9"
    assert proxies.address(_request("10.1.2.3", ["1.1.1.1", "10.9.9.9, 203.0.113.9"])) == (
        "203.0.113.9"
    )
    # Chained proxies are walked through; garbage stops at the last proxy that vouched.
    assert proxies.address(_request("::1", ["203.0.113.9, 10.0.0.7"])) == "203.0.113.9"
    assert proxies.address(_request("10.1.2.3", ["not-an-ip"])) == "10.1.2.3"
    # A peer outside the configured networks is believed about nothing.
    assert proxies.address(_request("198.51.100.4", ["203.0.113.9"])) == "198.51.100.4"


def test_trusted_proxies_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EHBO_API_TRUSTED_PROXIES", "10.0.0.0/8,192.168.1.1")
    assert [str(n) for n in ApiSettings().trusted_proxies] == ["10.0.0.0/8", "192.168.1.1/32"]
