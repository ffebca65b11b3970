"""Browser tests: the real app (with the local FCM server at /fcm and the push worker) on a
loopback port in a background thread, driven by headless Chromium through Playwright.

Every browser context refuses and counts requests to anything but the loopback server, so a
test can assert that no page reached out to the internet (no CDN, no tiles, no fonts).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from playwright.async_api import Browser, BrowserContext, Page, Playwright, async_playwright
from sqlalchemy.ext.asyncio import AsyncEngine

from responders.api import create_app
from responders.db.gateway import Database
from responders.emulators.fcm import FcmServerState, create_fcm_app
from responders.emulators.webpush import WebPushServerState
from responders.registry.operators import create_operator
from responders.settings import DispatchSettings, PushSettings, Settings
from responders.web.demo import mount_webpush
from tests.conftest import ARTIFACTS
from tests.live import bound_socket, serving

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-proxy-server",
]
SCREENSHOTS = ARTIFACTS / "screenshots"
# The middle of the Helsinki extract's bounds: where a click in the middle of the console's
# map lands, so volunteers and AEDs are placed around it.
CENTRE = (60.17163, 24.94430)
FUTURE = (dt.date.today() + dt.timedelta(days=365)).isoformat()
CONSOLE = {"width": 1440, "height": 900}
PHONE = {"width": 375, "height": 740}
_numbers = itertools.count()


@dataclass
class LiveServer:
    url: str
    app: FastAPI
    fcm: FcmServerState
    settings: Settings


@dataclass
class Volunteer:
    id: int
    name: str
    token: str
    device: str | None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class World:
    """What a test starts from: tokens, volunteers and AEDs around CENTRE."""

    server: LiveServer
    http: httpx.AsyncClient
    operator: str
    coordinator: str
    volunteers: list[Volunteer]
    aeds: list[dict[str, Any]]
    credentials: Path

    @property
    def operator_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.operator}"}

    def volunteer(self, responder_id: int) -> Volunteer:
        return next(v for v in self.volunteers if v.id == responder_id)

    async def dispatch(
        self, address: str, spot: tuple[float, float] = CENTRE, kind: str = "cardiac_arrest"
    ) -> dict[str, Any]:
        """An incident reported by the operator through the API (dispatched at once)."""
        response = await self.http.post(
            "/incidents",
            headers=self.operator_headers,
            json={"kind": kind, "location": {"lat": spot[0], "lon": spot[1]}, "address": address},
        )
        assert response.status_code == 201, response.text
        incident: dict[str, Any] = response.json()
        return incident

    async def incident(self, incident_id: int) -> dict[str, Any]:
        response = await self.http.get(f"/incidents/{incident_id}", headers=self.operator_headers)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def live_server(
    settings: Settings, helsinki_router: Any, clean_db: AsyncEngine, tmp_path: Path
) -> Iterator[LiveServer]:
    sock, url = bound_socket()
    configured = settings.model_copy(
        update={
            "api": settings.api.model_copy(
                update={"demo_credentials": tmp_path / "credentials.json"}
            ),
            "dispatch": DispatchSettings(run_timers=False),
            "push": PushSettings(
                endpoint=f"{url}/fcm", backoff_base_s=0.05, backoff_max_s=0.5, poll_interval_s=0.5
            ),
        }
    )
    app = create_app(configured, router=helsinki_router)
    fcm_app = create_fcm_app()
    app.mount("/fcm", fcm_app)
    with serving(app, sock, worker=configured):
        yield LiveServer(url=url, app=app, fcm=fcm_app.state.fcm, settings=configured)


async def _operator(db: Database, role: str) -> str:
    return (await create_operator(db, f"web test {role}", role)).token


async def add_volunteer(
    http: httpx.AsyncClient,
    lat: float,
    lon: float,
    name: str,
    *,
    device: bool = True,
) -> Volunteer:
    number = next(_numbers)
    body: dict[str, Any] = {
        "name": name,
        "phone": "+358 40 000 0000",
        "email": f"web{number}@example.org",
        "qualifications": [{"kind": "cpr_aed", "expires_on": FUTURE}],
    }
    token_name = f"demo-device-{number}" if device else None
    if token_name:
        body["device"] = {"fcm_token": token_name, "platform": "android"}
    response = await http.post("/responders", json=body)
    assert response.status_code == 201, response.text
    registered = response.json()
    volunteer = Volunteer(registered["responder"]["id"], name, registered["token"], token_name)
    located = await http.put(
        "/responders/me/location",
        headers=volunteer.headers,
        json={"lat": lat, "lon": lon, "accuracy_m": 10},
    )
    assert located.status_code == 204, located.text
    return volunteer


# Offsets in degrees from CENTRE: a few hundred metres around it, on walkable streets.
_SPOTS = [
    ("Aino Virtanen", 0.001, 0.001),
    ("Eero Korhonen", 0.002, 0.0),
    ("Helmi Mäkinen", 0.0, 0.003),
    ("Onni Nieminen", -0.001, -0.002),
    ("Venla Laine", -0.002, 0.0),
    ("Leo Heikkinen", 0.003, 0.002),
    ("Ella Koskinen", -0.003, 0.001),
]
_AEDS = [
    ("Kaivokatu 8", 0.0012, -0.0008, "2580"),
    ("Aleksanterinkatu 52", -0.0010, 0.0015, "1177"),
]


@pytest_asyncio.fixture(loop_scope="session")
async def world(
    live_server: LiveServer, clean_db: AsyncEngine, db: Database
) -> AsyncIterator[World]:
    operator = await _operator(db, "operator")
    coordinator = await _operator(db, "coordinator")
    async with httpx.AsyncClient(base_url=live_server.url, trust_env=False, timeout=30) as http:
        volunteers = list(
            await asyncio.gather(
                *(
                    add_volunteer(http, CENTRE[0] + dlat, CENTRE[1] + dlon, name)
                    for name, dlat, dlon in _SPOTS
                ),
                # One volunteer without a phone: their alert fails; the console must show it.
                add_volunteer(
                    http,
                    CENTRE[0] + 0.0015,
                    CENTRE[1] - 0.001,
                    "Toivo Ilman-puhelinta",
                    device=False,
                ),
            )
        )
        aeds = []
        for address, dlat, dlon, code in _AEDS:
            created = await http.post(
                "/aeds",
                headers={"Authorization": f"Bearer {coordinator}"},
                json={
                    "location": {"lat": CENTRE[0] + dlat, "lon": CENTRE[1] + dlon},
                    "address": address,
                    "description": "entrance hall",
                    "access": "public",
                    "cabinet_code": code,
                },
            )
            assert created.status_code == 201, created.text
            aeds.append(created.json())
        credentials = live_server.settings.api.demo_credentials
        assert credentials is not None
        credentials.write_text(
            json.dumps(
                {
                    "operator": operator,
                    "coordinator": coordinator,
                    "volunteers": {
                        str(v.id): {"name": v.name, "token": v.token} for v in volunteers
                    },
                }
            )
        )
        yield World(live_server, http, operator, coordinator, volunteers, aeds, credentials)


# ---------- the browser ----------


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def playwright() -> AsyncIterator[Playwright]:
    async with async_playwright() as p:
        yield p


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def browser(playwright: Playwright) -> AsyncIterator[Browser]:
    # launch() gives every run a fresh temporary profile (user-data-dir).
    browser = await playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    await browser.close()


@dataclass
class Outside:
    """Requests the pages tried to send anywhere but the loopback test server."""

    urls: list[str] = field(default_factory=list)


@pytest.fixture
def outside() -> Outside:
    return Outside()


NewContext = Callable[..., Awaitable[BrowserContext]]


@pytest_asyncio.fixture(loop_scope="session")
async def new_context(
    browser: Browser, live_server: LiveServer, outside: Outside
) -> AsyncIterator[NewContext]:
    """`await new_context(viewport=PHONE, ...)`: a context whose every request to a host
    other than the test server is aborted and recorded in `outside`."""
    contexts: list[BrowserContext] = []
    local = urlsplit(live_server.url).netloc

    async def guard(route: Any) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != local:
            outside.urls.append(url)
            await route.abort("blockedbyclient")
        else:
            await route.continue_()

    async def make(**options: Any) -> BrowserContext:
        context = await browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(10_000)
        await context.route("**/*", guard)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        await context.close()
    assert outside.urls == [], f"requests left the machine: {outside.urls}"


async def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=False)
    return path


async def sign_in_console(page: Page, token: str) -> None:
    await page.goto("/console")
    await page.get_by_label("Operator token").fill(token)
    await page.get_by_role("button", name="Sign in").click()
    await page.locator("#map[data-ready='true']").wait_for()


async def show_coordinates(page: Page) -> None:
    """Opens the console form's "Coordinates", collapsed under the address box (issue 14)."""
    if await page.locator("#inc-coords").get_attribute("open") is None:
        await page.locator("#inc-coords-toggle").click()


async def sign_in_volunteer(page: Page, token: str, alert_id: int | None = None) -> None:
    await page.goto("/app#/signin")
    await page.get_by_label("Volunteer token", exact=True).fill(token)
    await page.get_by_role("button", name="Sign in").click()
    await page.locator("#view-list:not([hidden])").wait_for()
    if alert_id is not None:
        await page.goto(f"/app?alert={alert_id}")


# ---------- issue 15: the local Web Push service beside the FCM one ----------


def with_webpush(server: LiveServer) -> WebPushServerState:
    """The local push service under /webpush of the live server, as `ehbo demo` mounts it
    (once per server: the app keeps it on `app.state.webpush_service`)."""
    mounted: WebPushServerState | None = getattr(server.app.state, "webpush_service", None)
    return mounted if mounted is not None else mount_webpush(server.app)
