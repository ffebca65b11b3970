"""Without vector tiles (tilemaker missing, building off), the pages' maps draw the walking
graph's streets and say so on the map (issue 14, item 2)."""

from __future__ import annotations

from playwright.async_api import Page, Response

from responders.web.maps import FALLBACK_NOTE
from tests.web.conftest import CONSOLE, NewContext, World, screenshot, sign_in_console


def _watch_tiles(page: Page) -> list[int]:
    statuses: list[int] = []

    def seen(response: Response) -> None:
        if "/map/tiles/" in response.url:
            statuses.append(response.status)

    page.on("response", seen)
    return statuses


async def test_without_tiles_the_map_says_it_draws_streets_only(
    world: World, new_context: NewContext
) -> None:
    # The web tests' server has no tiles: the pages draw the walking graph's streets.
    context = await new_context(viewport=CONSOLE)
    page = await context.new_page()
    statuses = _watch_tiles(page)
    await sign_in_console(page, world.operator)
    note = page.locator("#map .map-note")
    await note.wait_for()
    assert await note.text_content() == FALLBACK_NOTE
    assert await note.is_visible()
    assert await page.locator("#map").get_attribute("data-background") is None
    assert statuses == []
    await screenshot(page, "console-streets-only")
