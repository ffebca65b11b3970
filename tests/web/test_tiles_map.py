"""The map people can read (issue 14, item 2), in Chromium: the console and the citizen
page draw the service's own vector tiles (water, streets with their names) with nothing
fetched from elsewhere (test_tiles_fallback.py: the map without tiles)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, Response
from sqlalchemy.ext.asyncio import AsyncEngine

from responders.api import create_app
from responders.emulators.fcm import create_fcm_app
from responders.settings import DispatchSettings, PushSettings, Settings
from tests.live import bound_socket, serving
from tests.web.conftest import (
    CONSOLE,
    PHONE,
    LiveServer,
    NewContext,
    World,
    screenshot,
    sign_in_console,
)

WATER = (168, 210, 239)  # tiles.js: COLOURS.water
LABEL_DARK = 80  # every channel below this: the dark text of a label


@pytest.fixture
def live_server(
    settings: Settings,
    helsinki_router: Any,
    helsinki_tiles: Path,
    clean_db: AsyncEngine,
    tmp_path: Path,
) -> Iterator[LiveServer]:
    """The web tests' live server (tests/web/conftest.py), with the Helsinki tiles."""
    sock, url = bound_socket()
    configured = settings.model_copy(
        update={
            "api": settings.api.model_copy(
                update={"demo_credentials": tmp_path / "credentials.json"}
            ),
            "map": settings.map.model_copy(update={"tiles_file": helsinki_tiles}),
            "dispatch": DispatchSettings(run_timers=False),
            "push": PushSettings(endpoint=f"{url}/fcm", poll_interval_s=0.5),
        }
    )
    app = create_app(configured, router=helsinki_router)
    fcm_app = create_fcm_app()
    app.mount("/fcm", fcm_app)
    with serving(app, sock, worker=configured):
        yield LiveServer(url=url, app=app, fcm=fcm_app.state.fcm, settings=configured)


def _watch_tiles(page: Page) -> list[int]:
    statuses: list[int] = []

    def seen(response: Response) -> None:
        if "/map/tiles/" in response.url:
            statuses.append(response.status)

    page.on("response", seen)
    return statuses


_PIXELS = """(element, [water, dark]) => {
  const found = {tiles: 0, water: 0, dark: 0, colours: 0};
  const colours = new Set();
  for (const canvas of element.querySelectorAll(".leaflet-tile-pane canvas")) {
    if (!canvas.width) continue;
    found.tiles += 1;
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < data.length; i += 16) {
      const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
      colours.add((r << 16) | (g << 8) | b);
      const [wr, wg, wb] = water;
      if (Math.abs(r - wr) < 6 && Math.abs(g - wg) < 6 && Math.abs(b - wb) < 6) found.water += 1;
      if (r < dark && g < dark && b < dark) found.dark += 1;
    }
  }
  found.colours = colours.size;
  return found;
}"""


async def _drawn(page: Page, selector: str) -> dict[str, int]:
    """What the map's tile canvases show, once the tiles and their labels are painted."""
    await page.locator(
        f"{selector}[data-background='vector'] .leaflet-tile-loaded"
    ).first.wait_for()
    await page.wait_for_timeout(800)  # labels are placed after the first paint
    found: dict[str, int] = await page.locator(selector).evaluate(
        _PIXELS, [list(WATER), LABEL_DARK]
    )
    return found


async def test_the_console_map_draws_labelled_streets_and_water(
    world: World, new_context: NewContext
) -> None:
    context = await new_context(viewport=CONSOLE)
    page = await context.new_page()
    statuses = _watch_tiles(page)
    await sign_in_console(page, world.operator)
    # One step in from the whole extract (about zoom 16), then north over the bays.
    await page.locator("#map").focus()
    await page.keyboard.press("+")
    for key in ["ArrowUp"] * 5 + ["ArrowRight"]:
        await page.keyboard.press(key)
        await page.wait_for_timeout(300)  # each pan is animated
    await page.wait_for_timeout(600)
    found = await _drawn(page, "#map")
    assert found["tiles"] >= 4
    assert found["colours"] > 20  # not blank: land, water, parks, buildings, streets, text
    assert found["water"] > 500  # the bays and the harbour
    assert found["dark"] > 200  # street names
    assert statuses and set(statuses) <= {200, 204, 304}
    assert 200 in statuses
    assert await page.locator(".map-note").count() == 0
    shot = await screenshot(page, "console-vector-map")
    assert shot.stat().st_size > 100_000  # a detailed picture, not an empty one
    # Closer in, the house numbers (zoom 17 and more).
    for key in ["+"] + ["ArrowDown"] * 4:
        await page.keyboard.press(key)
        await page.wait_for_timeout(500)
    await page.wait_for_timeout(800)
    await screenshot(page, "console-vector-map-close")


async def test_the_citizen_page_draws_the_tiles_too(
    live_server: LiveServer, new_context: NewContext
) -> None:
    context = await new_context(viewport=PHONE)
    page = await context.new_page()
    statuses = _watch_tiles(page)
    await page.goto("/report")
    found = await _drawn(page, "#report-map")
    assert found["tiles"] >= 1 and found["colours"] > 10
    assert 200 in statuses
    await screenshot(page, "report-vector-map")
