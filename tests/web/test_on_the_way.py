"""Issue 15 item 7: on the way. Once accepted, the alert screen lists the route's steps,
shows the volunteer's own moving position, and links to the phone's maps app for the walk
(geo: on Android, Apple Maps on iOS, OpenStreetMap elsewhere)."""

from __future__ import annotations

import asyncio
import math
from typing import Any

from playwright.async_api import expect

from tests.web.conftest import NewContext, Outside, World, screenshot
from tests.web.test_location import accept, alerted, open_phone

TALL_PHONE = {"width": 390, "height": 844}
ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
IPAD_DESKTOP = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Safari/605.1.15"
)
LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)


def distance_text(metres: float) -> str:
    """common.js fmtDistance (Math.round rounds halves up)."""
    if metres < 1000:
        return f"{math.floor(metres + 0.5)} m"
    return f"{metres / 1000:.1f} km"


def step_text(step: dict[str, Any], role: str) -> str:
    if step["instruction"] == "Arrive at waypoint":
        return "Arrive at the AED" if role == "via_aed" else "Arrive at the waypoint"
    if step["instruction"] == "Arrive":
        return "Arrive at the victim"
    if step["distance_m"] > 0:
        return f"{step['instruction']} · {distance_text(step['distance_m'])}"
    return str(step["instruction"])


async def test_steps_own_position_and_open_in_maps_once_accepted(
    world: World, new_context: NewContext, outside: Outside
) -> None:
    alert, volunteer = await alerted(world, "On the way 1")
    phone = await open_phone(new_context, world, volunteer, viewport=TALL_PHONE, user_agent=ANDROID)
    page = phone.page
    # The phone stands where its route starts (where dispatch placed this volunteer).
    before_accept = await world.http.get(f"/alerts/{alert['id']}", headers=volunteer.headers)
    start_lon, start_lat = before_accept.json()["route"]["geometry"]["coordinates"][0]
    await phone.move((start_lat, start_lon))
    await page.goto(f"/app#/alerts/{alert['id']}")
    await expect(page.locator("#alert-status")).to_have_text("Seen on phone")
    # Not yet on the way: no steps, no link, no own position (nothing shared).
    await expect(page.locator("#onway")).to_be_hidden()
    await expect(page.locator("#alert-map .me-icon")).to_have_count(0)

    await accept(phone, alert["id"])
    mine = await world.http.get(f"/alerts/{alert['id']}", headers=volunteer.headers)
    data = mine.json()
    steps = data["route"]["properties"]["steps"]
    assert len(steps) >= 2 and steps[-1]["instruction"] == "Arrive"
    items = page.locator("#onway-steps li")
    await expect(items).to_have_text([step_text(s, "direct") for s in steps])
    assert " · " in await items.first.inner_text()
    await expect(items.last).to_have_text("Arrive at the victim")

    lon, lat = data["incident"]["location"]["coordinates"]
    link = page.get_by_role("link", name="Open in Maps")
    await expect(link).to_have_attribute("href", f"geo:{lat:.6f},{lon:.6f}?q={lat:.6f},{lon:.6f}")

    me = page.locator("#alert-map .me-icon")
    await expect(me).to_have_count(1)
    await page.locator("#alert-map[data-ready='true']").wait_for()
    before = await me.bounding_box()
    assert before is not None
    # Half-way along the route: the marker follows (tens of pixels at the route's zoom).
    line = data["route"]["geometry"]["coordinates"]
    mid_lon, mid_lat = line[len(line) // 2]
    await phone.move((mid_lat, mid_lon))
    await phone.wait_puts(2)
    for _ in range(50):
        if await _moved(me, before) > 10:
            break
        await asyncio.sleep(0.1)
    assert await _moved(me, before) > 10, (before, await me.bounding_box())

    await expect(page.locator("#location-bar")).to_contain_text("until you arrive")
    await screenshot(page, "volunteer-on-the-way-top")
    await page.locator("#onway-steps").scroll_into_view_if_needed()
    await screenshot(page, "volunteer-on-the-way-steps")

    await page.get_by_role("button", name="I have arrived").click()
    await expect(page.locator("#onway")).to_be_hidden()
    assert phone.errors == []
    assert outside.urls == []


async def _moved(locator: Any, before: Any) -> float:
    """Pixels between the element's box now and `before`."""
    box = await locator.bounding_box()
    if not box:
        return 0.0
    return math.hypot(box["x"] - before["x"], box["y"] - before["y"])


async def test_a_fetcher_gets_the_aed_first(world: World, new_context: NewContext) -> None:
    incident = await world.dispatch("On the way 2")
    alert = next(a for a in incident["alerts"] if a["role"] == "via_aed")
    volunteer = world.volunteer(alert["responder_id"])
    phone = await open_phone(new_context, world, volunteer, user_agent=IPHONE)
    await accept(phone, alert["id"])
    data = (await world.http.get(f"/alerts/{alert['id']}", headers=volunteer.headers)).json()
    steps = data["route"]["properties"]["steps"]
    items = phone.page.locator("#onway-steps li")
    await expect(items).to_have_text([step_text(s, "via_aed") for s in steps])
    if any(s["instruction"] == "Arrive at waypoint" for s in steps):
        await expect(items.filter(has_text="Arrive at the AED")).to_have_count(1)
    aed_lon, aed_lat = data["aed"]["location"]["coordinates"]
    lon, lat = data["incident"]["location"]["coordinates"]
    links = phone.page.locator("#onway-links a")
    await expect(links).to_have_text(["Open in Maps: to the AED", "Open in Maps: on to the victim"])
    apple = "https://maps.apple.com/?daddr={:.6f},{:.6f}&dirflg=w"
    await expect(links.first).to_have_attribute("href", apple.format(aed_lat, aed_lon))
    await expect(links.last).to_have_attribute("href", apple.format(lat, lon))
    assert phone.errors == []


async def test_maps_link_by_user_agent(world: World, new_context: NewContext) -> None:
    """onway.js mapsHref: one small pure function decides the link from the user agent."""
    page = await (await new_context()).new_page()
    await page.goto("/app")
    hrefs = await page.evaluate(
        """async (agents) => {
            const { mapsHref } = await import("/static/js/onway.js");
            const to = { lat: 60.1716, lon: 24.9443 };
            const from = { lat: 60.17, lon: 24.94 };
            return [
                ...agents.map((ua) => mapsHref(ua, to)),
                mapsHref(agents[2], to, { touchPoints: 5 }),
                mapsHref(agents[3], to, { from }),
            ];
        }""",
        [ANDROID, IPHONE, IPAD_DESKTOP, LINUX],
    )
    osm = "https://www.openstreetmap.org/directions?engine=fossgis_osrm_foot&route="
    assert hrefs == [
        "geo:60.171600,24.944300?q=60.171600,24.944300",
        "https://maps.apple.com/?daddr=60.171600,24.944300&dirflg=w",
        # A Mac (no touch screen) gets the OpenStreetMap site...
        f"{osm}%3B60.171600%2C24.944300",
        f"{osm}%3B60.171600%2C24.944300",
        # ...an iPad asking for the desktop site (a touch screen) gets Apple Maps.
        "https://maps.apple.com/?daddr=60.171600,24.944300&dirflg=w",
        f"{osm}60.170000%2C24.940000%3B60.171600%2C24.944300",
    ]
