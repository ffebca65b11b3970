"""The volunteer's own pages at 375 px: registration, pause and resume, home/work windows,
and the alert list; the decline path of an alert."""

from __future__ import annotations

import asyncio
import datetime as dt
import re

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

# Places are found with the address search (issue 15): the geocoding index of the extract.
from tests.geocode.conftest import extract_path, geocode_index  # noqa: F401
from tests.web.conftest import (
    CENTRE,
    FUTURE,
    PHONE,
    NewContext,
    Outside,
    World,
    screenshot,
    sign_in_volunteer,
)


async def _pick_home(page: Page, typed: str) -> str:
    """The home's address box: type, tap the first suggestion; the label it took."""
    home = page.locator("fieldset[data-kind='home']")
    await home.get_by_role("combobox", name="Address").fill(typed)
    first = page.locator("#place-home-suggestions").get_by_role("option").first
    label = await first.locator(".label").inner_text()
    await first.click()
    await expect(page.locator("#place-home-chosen")).to_have_text(f"Home: {label}")
    return label


@pytest.mark.usefixtures("geocode_index")
async def test_register_pause_resume_and_places(
    world: World, new_context: NewContext, outside: Outside
) -> None:
    page = await (await new_context(viewport=PHONE, is_mobile=True, has_touch=True)).new_page()
    await page.goto("/app")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await page.get_by_role("link", name="Register as a volunteer").click()
    await page.get_by_label("Full name").fill("Siiri Saarinen")
    await page.get_by_label("Mobile phone").fill("+358 40 111 2222")
    await page.get_by_label("E-mail").fill("siiri@example.org")
    await page.get_by_label("Qualification").select_option("first_aid")
    await page.get_by_role("button", name="Register").click()
    token_box = page.get_by_label("Your volunteer token")
    await expect(token_box).to_have_value(re.compile(r".{20,}"))
    token = await token_box.input_value()
    headers = {"Authorization": f"Bearer {token}"}
    await screenshot(page, "volunteer-registered")
    await page.get_by_role("button", name="Continue").click()

    await expect(page.get_by_role("heading", name="Availability")).to_be_visible()
    await expect(page.locator("#me-status")).to_contain_text("Siiri Saarinen: active")
    await page.get_by_label("Pause for (hours)").fill("3")
    await page.get_by_role("button", name="Pause", exact=True).click()
    await expect(page.locator("#me-status")).to_contain_text("paused until")
    me = (await world.http.get("/responders/me", headers=headers)).json()
    assert me["status"] == "paused" and me["qualifications"][0]["kind"] == "first_aid"
    paused_for = dt.datetime.fromisoformat(me["paused_until"]) - dt.datetime.now(dt.UTC)
    assert dt.timedelta(hours=2, minutes=58) < paused_for <= dt.timedelta(hours=3)

    await page.get_by_role("button", name="Resume: I can be alerted").click()
    await expect(page.locator("#me-status")).to_contain_text("active")
    assert (await world.http.get("/responders/me", headers=headers)).json()["status"] == "active"

    home = page.locator("fieldset[data-kind='home']")
    label = await _pick_home(page, "Mannerheimintie 5")
    assert label.startswith("Mannerheimintie 5")
    for day in ("Saturday", "Sunday"):
        await home.get_by_role("button", name=day).click()
    await home.get_by_label("From").fill("18:00")
    await home.get_by_label("Until").fill("08:00")
    await page.get_by_role("button", name="Save places").click()
    await expect(page.locator("#availability-message")).to_have_text("Places saved.")
    me = (await world.http.get("/responders/me", headers=headers)).json()
    assert [(p["kind"], p["label"]) for p in me["places"]] == [("home", label)]
    assert me["places"][0]["windows"] == [
        {"days": ["sat", "sun"], "start": "18:00", "end": "08:00"}
    ]
    await page.reload()
    await expect(home.get_by_label("Until")).to_have_value("08:00")
    await screenshot(page, "volunteer-availability")

    await page.get_by_role("button", name="Alerts").click()
    await expect(page.locator("#alert-list")).to_contain_text("No alerts.")
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert outside.urls == []


async def test_volunteer_declines_from_the_alert_list(
    world: World, new_context: NewContext, outside: Outside
) -> None:
    reported = await world.http.post(
        "/incidents",
        headers=world.operator_headers,
        json={"kind": "breathing", "location": {"lat": CENTRE[0], "lon": CENTRE[1]}},
    )
    assert reported.status_code == 201, reported.text
    alert = next(a for a in reported.json()["alerts"] if a["role"] == "direct")
    volunteer = world.volunteer(alert["responder_id"])

    page = await (await new_context(viewport=PHONE, is_mobile=True, has_touch=True)).new_page()
    await sign_in_volunteer(page, volunteer.token)
    item = page.locator("#alert-list").get_by_role("button", name=re.compile("Breathing problem"))
    await expect(item).to_contain_text(re.compile("Push sent|Queued"))
    await screenshot(page, "volunteer-alert-list")
    await item.click()
    await expect(page.locator("#role-box")).to_contain_text("Go straight to the victim")
    await expect(page.locator("#alert-status")).to_have_text("Seen on phone")
    await page.get_by_role("button", name="Decline: I can't go").click()
    await expect(page.locator("#alert-status")).to_have_text("Declined")
    await expect(page.locator("#alert-buttons")).to_contain_text("You declined this alert")
    detail = await world.incident(reported.json()["id"])
    statuses = {a["id"]: a["status"] for a in detail["alerts"]}
    assert statuses[alert["id"]] == "declined"
    assert outside.urls == []


async def test_volunteer_without_a_phone_push_accepts_in_the_app(
    world: World, new_context: NewContext, outside: Outside
) -> None:
    """Registered in /app, no device: the push fails, yet the volunteer looking at the
    alert can answer it while help is still wanted."""
    reported = await world.http.post(
        "/incidents",
        headers=world.operator_headers,
        json={"kind": "cardiac_arrest", "location": {"lat": CENTRE[0], "lon": CENTRE[1]}},
    )
    assert reported.status_code == 201, reported.text
    phoneless = next(v for v in world.volunteers if v.device is None)
    alert = next(a for a in reported.json()["alerts"] if a["responder_id"] == phoneless.id)
    await _until_status(world, reported.json()["id"], alert["id"], "failed")

    page = await (await new_context(viewport=PHONE, is_mobile=True, has_touch=True)).new_page()
    await sign_in_volunteer(page, phoneless.token, alert["id"])
    await expect(page.locator("#alert-status")).to_have_text("Push failed")
    await page.get_by_role("button", name="Accept: I'm going").click()
    await expect(page.locator("#alert-status")).to_have_text("Accepted")
    await expect(page.get_by_role("button", name="I have arrived")).to_be_visible()
    await screenshot(page, "volunteer-accepts-failed-push")
    detail = await world.incident(reported.json()["id"])
    assert {a["id"]: a["status"] for a in detail["alerts"]}[alert["id"]] == "accepted"
    assert outside.urls == []


async def _until_status(world: World, incident_id: int, alert_id: int, status: str) -> None:
    """The push worker runs in the live server: wait for it to give up on the alert."""
    for _ in range(200):
        detail = await world.incident(incident_id)
        if {a["id"]: a["status"] for a in detail["alerts"]}[alert_id] == status:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"alert {alert_id} never became {status}")


# ---------- issue 12 #18 and #20: nothing lost without a word; sentences by the field ----------


async def test_registration_puts_each_problem_next_to_its_input(
    world: World, new_context: NewContext
) -> None:
    page = await (await new_context(viewport=PHONE, is_mobile=True, has_touch=True)).new_page()
    await page.goto("/app#/register")
    await page.get_by_label("Full name").fill("Kalle Kokeilija")
    await page.get_by_label("Mobile phone").fill("12")
    await page.get_by_label("E-mail").fill("kalle-at-example.org")
    await page.get_by_label("Valid until").fill("2020-06-30")
    await page.get_by_role("button", name="Register").click()
    await expect(page.locator("#register-message")).to_have_text("Please check the marked fields.")
    await expect(page.locator("#reg-phone-error")).to_contain_text("phone number")
    await expect(page.locator("#reg-email-error")).to_have_text(
        "Enter an e-mail address like name@example.org."
    )
    await expect(page.locator("#reg-expires-error")).to_contain_text(
        "expired on 2020-06-30: you would not be alerted"
    )
    await expect(page.get_by_label("Mobile phone")).to_have_attribute("aria-invalid", "true")
    # Never the validator's own words.
    assert "should" not in await page.locator("#view-register").inner_text()
    await screenshot(page, "volunteer-register-problems")

    await page.get_by_label("Mobile phone").fill("040 123 4567")  # national: read as FI
    await page.get_by_label("E-mail").fill("kalle@example.org")
    await page.get_by_label("Valid until").fill(FUTURE)
    await page.get_by_role("button", name="Register").click()
    token_box = page.get_by_label("Your volunteer token")
    await expect(token_box).to_have_value(re.compile(r".{20,}"))
    me = (
        await world.http.get("/responders/me", headers=_bearer(await token_box.input_value()))
    ).json()
    assert me["phone"] == "+358401234567"


@pytest.mark.usefixtures("geocode_index")
async def test_places_are_never_dropped_without_a_word(
    world: World, new_context: NewContext, clean_db: AsyncEngine
) -> None:
    volunteer = world.volunteers[0]
    page = await (await new_context(viewport=PHONE, is_mobile=True, has_touch=True)).new_page()
    await sign_in_volunteer(page, volunteer.token)
    await page.get_by_role("button", name="Availability").click()
    await expect(page.locator("#me-status")).to_contain_text("you can be alerted")
    home = page.locator("fieldset[data-kind='home']")
    message = page.locator("#availability-message")

    # An address only (typed, never chosen): it is not placed, so it is not "saved".
    await home.get_by_role("combobox", name="Address").fill("Mannerheimintie 5")
    await page.keyboard.press("Escape")
    await page.get_by_role("button", name="Save places").click()
    await expect(message).to_have_text("Places not saved: please check the marked fields.")
    await expect(page.locator("#place-home-label-error")).to_contain_text("an address alone")

    # Hours without days would be a window that never opens.
    label = await _pick_home(page, "Mannerheimintie 5")
    await home.get_by_label("From").fill("18:00")
    await home.get_by_label("Until").fill("22:00")
    await page.get_by_role("button", name="Save places").click()
    await expect(page.locator("#place-home-w0-days-error")).to_have_text(
        "Choose the days these hours are for."
    )
    await expect(page.locator("#place-home-label-error")).to_have_count(0)
    me = (await world.http.get("/responders/me", headers=volunteer.headers)).json()
    assert me["places"] == []

    # Start equal to end is refused by its input too, now before sending (issue 15; the
    # API's own refusal landing there is tested in test_places.py).
    await home.get_by_role("button", name="Monday").click()
    await home.get_by_label("Until").fill("18:00")
    await page.get_by_role("button", name="Save places").click()
    await expect(page.locator("#place-home-w0-end-error")).to_have_text(
        "Until is the same time as From: choose when these hours end."
    )
    await home.get_by_label("Until").fill("22:00")
    await page.get_by_role("button", name="Save places").click()
    await expect(message).to_have_text("Places saved.")
    me = (await world.http.get("/responders/me", headers=volunteer.headers)).json()
    assert [(p["label"], p["windows"]) for p in me["places"]] == [
        (label, [{"days": ["mon"], "start": "18:00", "end": "22:00"}])
    ]

    # A qualification that has expired since is shown as such, with what it means.
    async with clean_db.begin() as conn:
        await conn.execute(
            text("UPDATE qualifications SET expires_on = '2020-01-31' WHERE responder_id = :id"),
            {"id": volunteer.id},
        )
    await page.reload()
    await expect(page.locator("#me-status")).to_have_text(
        f"{volunteer.name}: your qualification expired on 2020-01-31: "
        "you will not be alerted until it is renewed."
    )


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
