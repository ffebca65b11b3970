"""Keyboard use: every control labelled, a visible focus ring, a logical tab order, and the
map-click report possible by typing coordinates (or Enter on the focused map)."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.web.conftest import (
    CENTRE,
    CONSOLE,
    PHONE,
    NewContext,
    Outside,
    World,
    show_coordinates,
)

# Every visible form control has a label (or an aria-label), every button a name.
_UNLABELLED = """() => {
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const bad = [];
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (!visible(el) || el.type === "hidden") continue;
    if (!(el.labels && el.labels.length) && !el.getAttribute("aria-label")) bad.push(el.outerHTML);
  }
  for (const el of document.querySelectorAll("button, [role=button]")) {
    if (!visible(el)) continue;
    const name = (el.textContent || "").trim() || el.getAttribute("aria-label") || el.title;
    if (!name) bad.push(el.outerHTML);
  }
  return bad;
}"""


async def _focused_id(page: Page) -> str:
    focused: str = await page.evaluate("document.activeElement && document.activeElement.id")
    return focused


async def _assert_labelled(page: Page) -> None:
    assert await page.evaluate(_UNLABELLED) == []


async def test_console_by_keyboard_alone(
    world: World, new_context: NewContext, outside: Outside
) -> None:
    page = await (await new_context(viewport=CONSOLE)).new_page()
    await page.goto("/console")
    await expect(page.get_by_label("Operator token")).to_be_focused()
    await _assert_labelled(page)
    await page.keyboard.type(world.operator)
    await page.keyboard.press("Enter")
    await page.locator("#map[data-ready='true']").wait_for()
    # The address comes first (issue 14): sign-in leads into the address box.
    await expect(page.get_by_label("Address or place")).to_be_focused()
    await _assert_labelled(page)

    # On a fresh load the skip link comes first, and leads into the report form.
    await page.reload()
    await page.locator("#map[data-ready='true']").wait_for()
    await page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the new incident form")
    await expect(skip).to_be_focused()
    await page.keyboard.press("Enter")
    order = []
    for _ in range(6):
        await page.keyboard.press("Tab")
        order.append(await _focused_id(page))
    # The coordinates are collapsed under their "Coordinates" toggle since issue 14.
    assert order == [
        "inc-search",
        "inc-kind",
        "inc-coords-toggle",
        "inc-address",
        "inc-notes",
        "inc-submit",
    ]
    outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # the focus ring is visible

    # Enter on the focused map places the point at its centre crosshair.
    await page.locator("#map").focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_label("Latitude")).to_have_value(re.compile(r"^60\.17"))

    # Or type the coordinates, and submit with Enter.
    lat, lon = CENTRE[0] + 0.001, CENTRE[1] - 0.001
    await show_coordinates(page)
    await page.get_by_label("Latitude").fill("")
    await page.get_by_label("Latitude").press_sequentially(f"{lat:.6f}")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Control+A")
    await page.keyboard.type(f"{lon:.6f}")
    await page.keyboard.press("Tab")
    await page.keyboard.type("Aleksanterinkatu 1")
    await page.keyboard.press("Enter")
    await expect(page.locator("#incident-title")).to_have_text(re.compile(r"#\d+ Cardiac arrest"))
    incident_id = int(re.findall(r"\d+", await page.locator("#incident-title").inner_text())[0])
    detail = await world.incident(incident_id)
    assert detail["address"] == "Aleksanterinkatu 1"
    assert detail["location"]["coordinates"] == [round(lon, 6), round(lat, 6)]

    # The actions are real buttons, reachable and usable by keyboard.
    close = page.get_by_role("button", name="Close incident")
    await close.focus()
    await page.keyboard.press("Enter")
    # (issue 14) The dialog asks why, by keyboard too: the first reason has the focus,
    # Space picks it, Enter confirms.
    await expect(page.get_by_role("dialog")).to_be_visible()
    await page.keyboard.press("Space")
    await page.keyboard.press("Enter")
    await expect(page.locator("#incident-status")).to_have_text("Closed")

    # Bad coordinates are refused before anything is sent.
    await page.get_by_label("Latitude").fill("91")
    await page.get_by_label("Longitude").fill("24.94")
    await page.get_by_role("button", name="Report incident and alert").click()
    await expect(page.locator("#inc-message")).to_contain_text("Latitude")
    await expect(page.get_by_label("Latitude")).to_be_focused()
    assert outside.urls == []


async def test_phone_pages_are_labelled(
    world: World, new_context: NewContext, outside: Outside
) -> None:
    page = await (await new_context(viewport=PHONE, is_mobile=True, has_touch=True)).new_page()
    for path, ready in (
        ("/report", "#report-map[data-ready='true']"),
        ("/app#/signin", "#view-signin:not([hidden])"),
        ("/app#/register", "#view-register:not([hidden])"),
    ):
        await page.goto(path)
        await page.locator(ready).wait_for()
        await _assert_labelled(page)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} scrolls sideways at 375 px ({width})"
    volunteer = world.volunteers[0]
    await page.goto("/app#/signin")
    await page.get_by_label("Volunteer token", exact=True).fill(volunteer.token)
    await page.keyboard.press("Enter")
    await page.get_by_role("button", name="Availability").click()
    await expect(page.locator("#me-status")).to_contain_text(volunteer.name)
    await _assert_labelled(page)
    demo = await (await new_context(viewport=CONSOLE)).new_page()
    await demo.goto("/demo/phone")
    await expect(demo.get_by_label("All demo volunteers")).to_contain_text(volunteer.name)
    await _assert_labelled(demo)
    assert outside.urls == []
