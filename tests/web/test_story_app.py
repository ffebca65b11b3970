"""The volunteer's story on the phone alone (issue 15, acceptance): someone new registers only
through /app, sets their home by its address with hours covering now (in the region's time
zone), and is alerted for an incident near that home while the app is open: the alert shows
without a reload and they accept it. Their push fails (no push service in the test browser);
the open app is enough."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import expect

# Home is found with the address search: the geocoding index of the extract.
from tests.geocode.conftest import extract_path, geocode_index  # noqa: F401
from tests.web.conftest import NewContext, Outside, World, screenshot

pytestmark = pytest.mark.usefixtures("geocode_index")

PHONE_390 = {"width": 390, "height": 844}
ALL_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
SAME_DOCUMENT = "window.__sameDocument = true"


async def test_new_volunteer_registers_sets_home_and_accepts_an_alert(
    world: World, new_context: NewContext, outside: Outside
) -> None:
    page = await (await new_context(viewport=PHONE_390, is_mobile=True, has_touch=True)).new_page()
    await page.goto("/app")
    await page.get_by_role("link", name="Register as a volunteer").click()
    name = f"Aada Alusta {uuid.uuid4().hex[:6]}"
    await page.get_by_label("Full name").fill(name)
    await page.get_by_label("Mobile phone").fill("+358 40 555 0101")
    await page.get_by_label("E-mail").fill(f"story-{uuid.uuid4().hex[:10]}@example.org")
    await page.get_by_label("Qualification").select_option("cpr_aed")
    await page.get_by_role("button", name="Register").click()
    token_box = page.get_by_label("Your volunteer token")
    await expect(token_box).to_have_value(re.compile(r".{20,}"))
    headers = {"Authorization": f"Bearer {await token_box.input_value()}"}
    me = (await world.http.get("/responders/me", headers=headers)).json()
    assert me["name"] == name and me["places"] == [] and me["live_location"] is None
    await page.get_by_role("button", name="Continue").click()

    # Home by its address, with hours around now in the region's time zone on every day
    # (an hour either side: past midnight is an overnight window, which the API takes).
    await expect(page.locator("#me-status")).to_contain_text(f"{name}: active")
    home = page.locator("fieldset[data-kind='home']")
    box = home.get_by_role("combobox", name="Address")
    await box.fill("Aleksanterinkatu 52")
    first = page.locator("#place-home-suggestions").get_by_role("option").first
    label = await first.locator(".label").inner_text()
    assert label.startswith("Aleksanterinkatu 52")
    await first.click()
    await expect(page.locator("#place-home-chosen")).to_have_text(f"Home: {label}")
    now = dt.datetime.now(ZoneInfo(world.server.settings.region.timezone))
    hours = home.get_by_role("group", name="Hours 1")
    for day in ALL_DAYS:
        await hours.get_by_role("button", name=day).click()
    await hours.get_by_label("From").fill((now - dt.timedelta(hours=1)).strftime("%H:%M"))
    await hours.get_by_label("Until").fill((now + dt.timedelta(hours=1)).strftime("%H:%M"))
    await page.get_by_role("button", name="Save places").click()
    await expect(page.locator("#availability-message")).to_have_text("Places saved.")
    await screenshot(page, "story-app-home")
    me = (await world.http.get("/responders/me", headers=headers)).json()
    [place] = me["places"]
    assert place["kind"] == "home" and place["label"] == label
    lon, lat = place["location"]["coordinates"]

    # The alert list is open (and polling) when the operator reports an incident there.
    await page.get_by_role("button", name="Alerts").click()
    await expect(page.locator("#alert-list")).to_contain_text("No alerts.")
    await page.evaluate(SAME_DOCUMENT)
    incident = await world.dispatch(label, spot=(lat, lon))
    [alert] = [a for a in incident["alerts"] if a["responder_id"] == me["id"]]

    item = page.locator("#alert-list").get_by_role("button", name=re.compile("Cardiac arrest"))
    await expect(item).to_be_visible(timeout=15_000)
    await expect(item).to_contain_text(label)
    assert await page.evaluate("window.__sameDocument === true"), "the app reloaded"
    await item.click()
    await expect(page).to_have_url(re.compile(rf"#/alerts/{alert['id']}$"))
    await page.get_by_role("button", name="Accept: I'm going").click()
    await expect(page.locator("#alert-status")).to_have_text("Accepted")
    await screenshot(page, "story-app-accepted")
    detail = await world.incident(incident["id"])
    assert {a["id"]: a["status"] for a in detail["alerts"]}[alert["id"]] == "accepted"
    assert outside.urls == []
