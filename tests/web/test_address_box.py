"""The console takes an address first (issue 14 #3): the "Address or place" box suggests as
the dispatcher types, Enter takes a place, the next Enter reports; a map click fills the
address by reverse geocoding. Everything against the real geocoding index of the Helsinki
extract (GET /geocode, /geocode/reverse) and the real dispatch."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import osmium
import pytest
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, Route, expect

from responders.geo import default_extract

# The geocoding index of the Helsinki extract, built once per session (helper G's fixture).
from tests.geocode.conftest import extract_path, geocode_index  # noqa: F401
from tests.web.conftest import CONSOLE, NewContext, Outside, World, screenshot, sign_in_console

pytestmark = pytest.mark.usefixtures("geocode_index")

# South of the extract (it ends at 60.1642): no address or street within reach.
HARBOUR_LAT = 60.161
REPORTED = re.compile(r"Incident #(\d+) reported: (\d+) volunteers alerted")


@functools.cache
def osm_address(street: str, housenumber: str) -> tuple[tuple[float, float], ...]:
    """Where the extract puts an address: each node that carries it, and the centre of each
    building outline that does (a department store's address is on its outline and on the
    shops inside)."""
    points: list[tuple[float, float]] = []
    extract = osmium.FileProcessor(str(default_extract())).with_locations()
    for obj in extract.with_filter(osmium.filter.KeyFilter("addr:housenumber")):
        tags = obj.tags
        if tags.get("addr:street") != street or tags.get("addr:housenumber") != housenumber:
            continue
        if isinstance(obj, osmium.osm.Node):
            points.append((obj.location.lat, obj.location.lon))
        elif isinstance(obj, osmium.osm.Way):
            ring = [(n.lat, n.lon) for n in obj.nodes if n.location.valid()]
            lats, lons = zip(*ring, strict=True)
            points.append((sum(lats) / len(ring), sum(lons) / len(ring)))
    assert points, f"{street} {housenumber} is not in the extract"
    return tuple(points)


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine), metres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


@dataclass
class Keys:
    """The keyboard, counting every key press sent."""

    page: Page
    count: int = 0

    async def type(self, text: str) -> None:
        await self.page.keyboard.type(text)  # one key press per character
        self.count += len(text)

    async def press(self, key: str) -> None:
        await self.page.keyboard.press(key)
        self.count += 1


async def _report_by_address(page: Page, typed: str) -> tuple[int, Keys]:
    """From the focus in the address box: type, Enter (take), Enter (report). The incident's
    id and the keys it took."""
    box = page.get_by_role("combobox", name="Address or place")
    await expect(box).to_be_focused()
    keys = Keys(page)
    await keys.type(typed)
    await expect(page.get_by_role("option").first).to_be_visible()
    await keys.press("Enter")
    await expect(page.get_by_role("button", name="Report incident and alert")).to_be_focused()
    await keys.press("Enter")
    await expect(page.locator("#inc-message")).to_contain_text(REPORTED)
    match = REPORTED.search(await page.locator("#inc-message").inner_text())
    assert match is not None
    return int(match.group(1)), keys


async def _where(world: World, incident_id: int) -> tuple[float, float]:
    lon, lat = (await world.incident(incident_id))["location"]["coordinates"]
    return lat, lon


async def test_an_address_in_at_most_25_keystrokes(
    world: World, new_context: NewContext, outside: Outside
) -> None:
    page = await (await new_context(viewport=CONSOLE)).new_page()
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/geocode?" in r.url else None)
    await sign_in_console(page, world.operator)

    incident_id, keys = await _report_by_address(page, "Aleksanterinkatu 52")
    assert keys.count <= 25, keys.count
    detail = await world.incident(incident_id)
    assert detail["status"] == "active" and detail["kind"] == "cardiac_arrest"
    assert detail["address"].startswith("Aleksanterinkatu 52")
    at = await _where(world, incident_id)
    nearest = min(metres(at, osm) for osm in osm_address("Aleksanterinkatu", "52"))
    assert nearest <= 30, f"{nearest:.0f} m from the OSM address"
    # Volunteers were alerted, and their phones got the push.
    assert len(detail["alerts"]) >= 3
    pushed = [a for a in detail["alerts"] if a["status"] != "failed"]
    assert pushed
    # Debounced: fewer searches than keys; each one near the map's centre.
    assert 0 < len(asked) < len("Aleksanterinkatu 52"), asked
    near = parse_qs(urlsplit(asked[-1]).query)["near"][0]
    assert re.fullmatch(r"60\.\d+,24\.\d+", near), near
    assert outside.urls == []


async def test_two_reports_in_one_page_share_nothing(
    world: World, new_context: NewContext, outside: Outside
) -> None:
    page = await (await new_context(viewport=CONSOLE)).new_page()
    await sign_in_console(page, world.operator)
    first_id, _ = await _report_by_address(page, "Aleksanterinkatu 52")

    # The form is empty again, and the focus is back in the box for the next call.
    box = page.get_by_role("combobox", name="Address or place")
    await expect(box).to_be_focused()
    await expect(box).to_have_value("")
    await expect(page.get_by_label("Address", exact=True)).to_have_value("")
    await expect(page.get_by_role("listbox")).to_be_hidden()
    # Enter before any suggestion came: the box searches at once and takes the first.
    keys = Keys(page)
    await keys.type("Kaivokatu 8")
    await keys.press("Enter")
    submit = page.get_by_role("button", name="Report incident and alert")
    await expect(submit).to_be_focused()
    await keys.press("Enter")
    newer = re.compile(rf"#(?!{first_id}\b)\d+ reported")
    await expect(page.locator("#inc-message")).to_contain_text(newer)
    match = REPORTED.search(await page.locator("#inc-message").inner_text())
    assert match is not None
    second_id = int(match.group(1))
    assert second_id != first_id and keys.count <= 25

    first, second = await world.incident(first_id), await world.incident(second_id)
    assert first["address"].startswith("Aleksanterinkatu 52")
    assert second["address"].startswith("Kaivokatu 8")
    here = await _where(world, second_id)
    assert min(metres(here, osm) for osm in osm_address("Kaivokatu", "8")) <= 30
    assert metres(here, await _where(world, first_id)) > 100
    assert outside.urls == []


async def test_arrows_enter_escape_and_no_match(
    world: World, new_context: NewContext, outside: Outside
) -> None:
    page = await (await new_context(viewport=CONSOLE)).new_page()
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/geocode?" in r.url else None)
    await sign_in_console(page, world.operator)
    box = page.get_by_role("combobox", name="Address or place")
    listbox = page.get_by_role("listbox", name="Addresses and places")
    options = listbox.get_by_role("option")

    await page.keyboard.type("Aleksanterinkatu 5")
    await expect(options.nth(1)).to_be_visible()
    await expect(box).to_have_attribute("aria-expanded", "true")
    await expect(box).to_have_attribute("aria-controls", "inc-suggestions")

    # Down, Down: the second suggestion is the active one (for assistive technology too).
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("ArrowDown")
    second = options.nth(1)
    await expect(second).to_have_attribute("aria-selected", "true")
    await expect(options.nth(0)).to_have_attribute("aria-selected", "false")
    await screenshot(page, "console-address-suggestions")
    second_id = await second.get_attribute("id")
    assert second_id
    await expect(box).to_have_attribute("aria-activedescendant", second_id)
    label = await second.locator(".label").inner_text()
    await page.keyboard.press("Enter")
    await expect(page.get_by_label("Address", exact=True)).to_have_value(label)
    await expect(box).to_have_value(label)
    await expect(listbox).to_be_hidden()
    await expect(box).to_have_attribute("aria-expanded", "false")
    await expect(page.locator("#map .pin-icon.draft")).to_have_count(1)
    # The location is that suggestion's: the API's second answer for the same search.
    query = parse_qs(urlsplit(asked[-1]).query)
    answer = await world.http.get(
        "/geocode",
        params={"q": query["q"][0], "near": query["near"][0], "limit": query["limit"][0]},
        headers=world.operator_headers,
    )
    lon, lat = answer.json()["features"][1]["geometry"]["coordinates"]
    assert answer.json()["features"][1]["properties"]["label"] == label
    await expect(page.get_by_label("Latitude")).to_have_value(f"{lat:.6f}")
    await expect(page.get_by_label("Longitude")).to_have_value(f"{lon:.6f}")

    # Escape closes the suggestions and keeps the text; Down opens them again.
    await box.focus()
    await page.keyboard.press("Control+A")
    await page.keyboard.type("Kaivokatu")
    await expect(options.first).to_be_visible()
    await page.keyboard.press("Escape")
    await expect(listbox).to_be_hidden()
    await expect(box).to_have_attribute("aria-expanded", "false")
    await expect(box).to_have_value("Kaivokatu")
    await page.keyboard.press("ArrowDown")
    await expect(options.first).to_have_attribute("aria-selected", "true")

    # Nothing matches: a sentence under the box says so, and what to do.
    await page.keyboard.press("Control+A")
    await page.keyboard.type("Qxqzvwk 12")
    message = page.locator("#inc-search-message")
    await expect(message).to_have_text(
        "No address or place matches “Qxqzvwk 12” — check the spelling or click the map."
    )
    await expect(listbox).to_be_hidden()
    assert outside.urls == []


async def test_a_map_click_fills_the_address(
    world: World, new_context: NewContext, outside: Outside
) -> None:
    page = await (await new_context(viewport=CONSOLE)).new_page()
    await sign_in_console(page, world.operator)
    box = page.get_by_role("combobox", name="Address or place")
    address = page.get_by_label("Address", exact=True)

    async def reverse_here() -> list[dict[str, Any]]:
        """What the API says of the point in the form's coordinates."""
        lat = await page.get_by_label("Latitude").input_value()
        lon = await page.get_by_label("Longitude").input_value()
        answer = await world.http.get(
            "/geocode/reverse", params={"lat": lat, "lon": lon}, headers=world.operator_headers
        )
        assert answer.status_code == 200, answer.text
        features: list[dict[str, Any]] = answer.json()["features"]
        return features

    # Out in the harbour, south of the extract, by keyboard (Enter at the crosshair of the
    # map as it opens, fitted to the extract): nothing is near; the box says so, and the
    # address field stays empty and editable.
    await page.locator("#map").focus()
    for _ in range(3):
        await page.keyboard.press("+")
        await page.wait_for_timeout(400)  # Leaflet drops keys while it animates
    for _ in range(30):
        for _ in range(5):
            await page.keyboard.press("Shift+ArrowDown")
            await page.wait_for_timeout(350)
        await page.keyboard.press("Enter")
        if float(await page.get_by_label("Latitude").input_value()) < HARBOUR_LAT:
            break
    assert float(await page.get_by_label("Latitude").input_value()) < HARBOUR_LAT
    await expect(page.locator("#inc-search-message")).to_contain_text("No address near this point")
    assert await reverse_here() == []
    await expect(address).to_have_value("")
    await address.fill("Ferry pier, gate 3")
    await expect(address).to_have_value("Ferry pier, gate 3")

    # Back in the city: a click names the address the API gives for that point.
    await page.reload()
    await page.locator("#map[data-ready='true']").wait_for()
    await page.locator("#map").click()
    await expect(address).not_to_have_value("")
    [found] = await reverse_here()
    found_at = await page.get_by_label("Latitude").input_value()
    label = found["properties"]["label"]
    await expect(address).to_have_value(label)
    await expect(box).to_have_value(label)

    # Words the dispatcher typed stay when the pin moves; the box names the new point.
    await address.fill("Stockmann, staff entrance")
    await page.locator("#map").click(position={"x": 400, "y": 600})
    await expect(page.get_by_label("Latitude")).not_to_have_value(found_at)
    [moved] = await reverse_here()
    await expect(box).to_have_value(moved["properties"]["label"])
    await expect(address).to_have_value("Stockmann, staff entrance")

    # A slow answer for a later click never overwrites the address typed meanwhile (and
    # left: the focus has moved on to the notes when the answer comes).
    async def slow(route: Route) -> None:
        await asyncio.sleep(1.0)
        await route.continue_()

    def reversing(url: str) -> bool:
        return "/geocode/reverse" in url

    await page.route(reversing, slow)
    async with page.expect_response(lambda r: "/geocode/reverse" in r.url) as held:
        await page.locator("#map").click(position={"x": 200, "y": 150})
        await address.fill("Kaivokatu 8, door code 1234")
        await page.keyboard.press("Tab")
    assert (await (await held.value).json())["features"], "the held answer named a place"
    await page.wait_for_timeout(300)
    await expect(address).to_have_value("Kaivokatu 8, door code 1234")
    await expect(box).to_have_value("")
    await page.unroute(reversing, slow)

    # The report goes out with the clicked point and the typed address.
    await page.get_by_role("button", name="Report incident and alert").click()
    await expect(page.locator("#inc-message")).to_contain_text(REPORTED)
    match = REPORTED.search(await page.locator("#inc-message").inner_text())
    assert match is not None
    detail = await world.incident(int(match.group(1)))
    assert detail["address"] == "Kaivokatu 8, door code 1234"
    assert outside.urls == []


async def test_a_slow_answer_never_replaces_a_newer_one(
    world: World, new_context: NewContext, outside: Outside
) -> None:
    page = await (await new_context(viewport=CONSOLE)).new_page()
    await sign_in_console(page, world.operator)
    held = asyncio.Event()

    async def slow_for_alek(route: Route) -> None:
        if parse_qs(urlsplit(route.request.url).query).get("q") == ["Alek"]:
            held.set()
            await asyncio.sleep(1.5)
        with contextlib.suppress(PlaywrightError):  # the page may have given up on it
            await route.continue_()

    await page.route(lambda url: "/geocode?" in url, slow_for_alek)
    await page.keyboard.type("Alek")
    await asyncio.wait_for(held.wait(), 5)
    await page.keyboard.type("santerinkatu 52")
    first = page.get_by_role("option").first
    await expect(first).to_contain_text("Aleksanterinkatu 52")
    await page.wait_for_timeout(2000)  # the answer for "Alek" has come (or been dropped)
    await expect(first).to_contain_text("Aleksanterinkatu 52")
    await page.keyboard.press("Enter")
    await expect(page.get_by_label("Address", exact=True)).to_have_value(
        re.compile(r"^Aleksanterinkatu 52")
    )
    assert outside.urls == []
