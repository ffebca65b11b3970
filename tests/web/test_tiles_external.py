"""An external style or vector tile server (EHBO_MAP_STYLE_URL, EHBO_MAP_TILE_URL) draws the
pages' maps (issue 14, item 2). The "external" server here is the test server itself (a style
document on a test route, our own tiles behind it), so the browser's no-outside-request guard
still holds and the page's path from setting to drawn tiles is the real one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from responders.api import create_app
from responders.emulators.fcm import create_fcm_app
from responders.settings import DispatchSettings, PushSettings, Settings
from tests.live import bound_socket, serving
from tests.web.conftest import CONSOLE, LiveServer, NewContext, World, sign_in_console


@pytest.fixture(params=["style", "vector tile server"])
def live_server(
    request: pytest.FixtureRequest,
    settings: Settings,
    helsinki_router: Any,
    helsinki_tiles: Path,
    clean_db: AsyncEngine,
    tmp_path: Path,
) -> Iterator[LiveServer]:
    sock, url = bound_socket()
    external = (
        {"style_url": f"{url}/test/style.json"}
        if request.param == "style"
        else {"tile_url": f"{url}/map/tiles/{{z}}/{{x}}/{{y}}.pbf"}
    )
    configured = settings.model_copy(
        update={
            "api": settings.api.model_copy(
                update={"demo_credentials": tmp_path / "credentials.json"}
            ),
            # The tiles file only stands in for the external server's tiles.
            "map": settings.map.model_copy(update={"tiles_file": helsinki_tiles, **external}),
            "dispatch": DispatchSettings(run_timers=False),
            "push": PushSettings(endpoint=f"{url}/fcm", poll_interval_s=0.5),
        }
    )
    app = create_app(configured, router=helsinki_router)

    @app.get("/test/style.json")
    async def style() -> dict[str, Any]:
        # A MapLibre style as a tile server publishes it; its TileJSON inline.
        return {
            "version": 8,
            "sources": {
                "openmaptiles": {
                    "type": "vector",
                    "tiles": ["/map/tiles/{z}/{x}/{y}.pbf"],
                    "maxzoom": 15,
                }
            },
            "layers": [],
        }

    fcm_app = create_fcm_app()
    app.mount("/fcm", fcm_app)
    with serving(app, sock, worker=configured):
        yield LiveServer(url=url, app=app, fcm=fcm_app.state.fcm, settings=configured)


async def test_an_external_source_draws_the_console_map(
    world: World, new_context: NewContext
) -> None:
    config = (await world.http.get("/map/config")).json()
    assert config["vector_tiles_url"] is None and config["streets_url"] is None
    context = await new_context(viewport=CONSOLE)
    page = await context.new_page()
    tiles: list[int] = []
    page.on("response", lambda r: tiles.append(r.status) if "/map/tiles/" in r.url else None)
    await sign_in_console(page, world.operator)
    await page.locator("#map[data-background='vector'] .leaflet-tile-loaded").first.wait_for()
    assert 200 in tiles
    assert await page.locator(".map-note").count() == 0
