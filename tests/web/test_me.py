"""The volunteer's "Me" view at 390 px (issue 15, item 6): profile, qualifications with their
expiry, verification when the service keeps one, devices, the data export, log out and
erasing the account."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from playwright.async_api import Page, Route, expect
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.web.conftest import (
    CENTRE,
    FUTURE,
    NewContext,
    Outside,
    Volunteer,
    World,
    add_volunteer,
    screenshot,
    sign_in_volunteer,
)

ME_PHONE = {"width": 390, "height": 844}
DEVICE_KEY = "ehbo.app.device"


async def _volunteer(world: World, name: str) -> Volunteer:
    return await add_volunteer(world.http, CENTRE[0] + 0.001, CENTRE[1] - 0.001, name)


async def _open_me(new_context: NewContext, volunteer: Volunteer) -> Page:
    context = await new_context(viewport=ME_PHONE, is_mobile=True, has_touch=True)
    page = await context.new_page()
    await sign_in_volunteer(page, volunteer.token)
    await page.get_by_role("button", name="Me", exact=True).click()
    await expect(page).to_have_url(re.compile(r"#/me$"))
    await expect(page.get_by_label("Name", exact=True)).to_have_value(volunteer.name)
    return page


def _fmt_day(day: dt.date) -> str:
    return f"{day.day} {day.strftime('%b')} {day.year}"


async def _me(world: World, volunteer: Volunteer) -> dict[str, Any]:
    response = await world.http.get("/responders/me", headers=volunteer.headers)
    assert response.status_code == 200, response.text
    me: dict[str, Any] = response.json()
    return me


async def test_profile_is_edited_with_each_problem_by_its_input(
    world: World, new_context: NewContext, outside: Outside
) -> None:
    volunteer = await _volunteer(world, "Iida Profiili")
    page = await _open_me(new_context, volunteer)
    await screenshot(page, "me-top")
    message = page.locator("#me-profile-message")

    await page.get_by_label("Phone number").fill("12")
    await page.get_by_role("button", name="Save profile").click()
    await expect(message).to_have_text("Not saved: please check the marked fields.")
    await expect(page.locator("#me-phone-error")).to_contain_text("phone number")
    await expect(page.get_by_label("Phone number")).to_have_attribute("aria-invalid", "true")
    # The sentence sits right under the phone input.
    assert (
        await page.evaluate("document.querySelector('#me-phone').nextElementSibling.id")
        == "me-phone-error"
    )
    await screenshot(page, "me-profile-problem")
    assert (await _me(world, volunteer))["phone"] == "+358400000000"

    # Another volunteer's address: the 409 lands by the e-mail input.
    taken = await _me(world, world.volunteers[0])
    await page.get_by_label("Phone number").fill("+358 40 765 4321")
    await page.get_by_label("Email address").fill(taken["email"])
    await page.get_by_role("button", name="Save profile").click()
    await expect(page.locator("#me-email-error")).to_contain_text("already registered")
    await expect(page.locator("#me-phone-error")).to_have_count(0)

    await page.get_by_label("Name", exact=True).fill("Iida Uusinimi")
    await page.get_by_label("Email address").fill("iida.uusi@example.org")
    await page.get_by_role("button", name="Save profile").click()
    await expect(message).to_have_text("Saved.")
    await expect(page.locator("#me-email-error")).to_have_count(0)
    me = await _me(world, volunteer)
    assert (me["name"], me["phone"], me["email"]) == (
        "Iida Uusinimi",
        "+358407654321",
        "iida.uusi@example.org",
    )
    # The page shows what the service stored (the number normalised).
    await expect(page.get_by_label("Phone number")).to_have_value("+358407654321")
    assert outside.urls == []


async def test_expired_qualification_is_explained_and_renewed(
    world: World, new_context: NewContext, clean_db: AsyncEngine
) -> None:
    volunteer = await _volunteer(world, "Kaarlo Vanhentunut")
    expired = dt.date.today() - dt.timedelta(days=30)
    async with clean_db.begin() as conn:
        await conn.execute(
            text("UPDATE qualifications SET expires_on = :day WHERE responder_id = :id"),
            {"day": expired, "id": volunteer.id},
        )
    page = await _open_me(new_context, volunteer)
    item = page.locator("#me-qual-list li[data-kind='cpr_aed']")
    await expect(item).to_contain_text(
        f"Expired on {_fmt_day(expired)}: you are not alerted for this until you renew it — "
        "enter the new expiry date."
    )
    await expect(item).to_have_attribute("data-expired", "yes")
    # Every qualification expired: said at the top, where it cannot be missed.
    warning = page.locator("#me-expired")
    await expect(warning).to_be_visible()
    await expect(warning).to_contain_text("You are not alerted at all")
    await screenshot(page, "me-all-expired")
    await page.locator("#me-quals").scroll_into_view_if_needed()
    await screenshot(page, "me-qualification-expired")

    # Adding another while the expired one stays as it is: the whole list is saved, so the
    # service's sentence lands by the expired date.
    await page.get_by_role("button", name="Add another").click()
    await page.get_by_label("Certificate").select_option("first_aid")
    await page.get_by_label("Expires on", exact=True).fill(FUTURE)
    await page.get_by_role("button", name="Save qualifications").click()
    await expect(page.locator("#me-q-0-date-error")).to_contain_text(
        f"expired on {expired.isoformat()}"
    )
    assert [q["kind"] for q in (await _me(world, volunteer))["qualifications"]] == ["cpr_aed"]

    renewed = (dt.date.today() + dt.timedelta(days=700)).isoformat()
    await page.get_by_label("CPR / AED expires on").fill(renewed)
    await page.get_by_role("button", name="Save qualifications").click()
    await expect(page.locator("#me-quals-message")).to_have_text("Saved.")
    await expect(warning).to_be_hidden()
    await expect(item).to_have_attribute("data-expired", "no")
    await expect(item).to_contain_text("Valid until")
    me = await _me(world, volunteer)
    assert me["qualifications"] == [
        {"kind": "cpr_aed", "expires_on": renewed},
        {"kind": "first_aid", "expires_on": FUTURE},
    ]
    # Each kind once: the one offered next is neither of these.
    await page.get_by_role("button", name="Add another").click()
    options = await page.get_by_label("Certificate").locator("option").all_inner_texts()
    assert "CPR / AED" not in options and "First aid (EHBO)" not in options and options


async def test_devices_are_listed_and_removed(
    world: World, new_context: NewContext, outside: Outside
) -> None:
    volunteer = await _volunteer(world, "Ville Laitteet")
    added = await world.http.post(
        "/responders/me/devices",
        headers=volunteer.headers,
        json={"fcm_token": "me-view-browser", "platform": "web"},
    )
    assert added.status_code == 201, added.text
    android, browser = [d["id"] for d in (await _me(world, volunteer))["devices"]]

    context = await new_context(viewport=ME_PHONE, is_mobile=True, has_touch=True)
    # This phone registered the second one (as the "Turn on alerts" flow records it).
    await context.add_init_script(f"localStorage.setItem('{DEVICE_KEY}', '{browser}')")
    page = await context.new_page()
    await sign_in_volunteer(page, volunteer.token)
    await page.get_by_role("button", name="Me", exact=True).click()
    devices = page.locator("#me-devices")
    first = devices.locator(f"li[data-device='{android}']")
    here = devices.locator(f"li[data-device='{browser}']")
    await expect(first).to_contain_text("FCM (Android app)")
    await expect(first).to_contain_text("Android")
    await expect(first).to_contain_text(f"since {_fmt_day(dt.date.today())}")
    await expect(first).not_to_contain_text("this phone")
    await expect(here).to_contain_text("FCM (web app)")
    await expect(here.locator(".badge")).to_have_text("this phone")
    await devices.scroll_into_view_if_needed()
    await screenshot(page, "me-devices")

    await first.get_by_role("button", name="Remove").click()
    await expect(first).to_have_count(0)
    await expect(page.locator("#me-devices-message")).to_have_text(
        "Removed: that device gets no more alerts."
    )
    assert [d["id"] for d in (await _me(world, volunteer))["devices"]] == [browser]

    await here.get_by_role("button", name="Remove").click()
    await expect(devices).to_contain_text(
        "No phone is registered: alerts reach you only while this app is open"
    )
    assert (await _me(world, volunteer))["devices"] == []
    assert await page.evaluate(f"localStorage.getItem('{DEVICE_KEY}')") is None
    await screenshot(page, "me-no-device")
    await expect(devices.get_by_role("link", name="Turn on alerts")).to_have_attribute(
        "href", "#/alerts"
    )
    assert outside.urls == []


async def test_web_push_device_and_verification_are_shown_when_the_service_has_them(
    world: World, new_context: NewContext
) -> None:
    """Both device shapes (before and after Web Push) render; a verification state shows
    when the profile carries one, and nothing is said when it does not."""
    volunteer = await _volunteer(world, "Wilma Verkko")
    page = await _open_me(new_context, volunteer)
    await expect(page.locator("#me-verification")).to_be_hidden()

    planted = '<b id="planted">a note</b>'

    async def with_fields(route: Route) -> None:
        response = await route.fetch()
        me = await response.json()
        me["verification"] = {"state": "verified", "note": planted}
        me["devices"].append(
            {
                "id": 999_001,
                "kind": "webpush",
                "platform": "web",
                "fcm_token": None,
                "endpoint_host": "fcm.googleapis.com",
                "created_at": "2026-01-03T10:00:00Z",
            }
        )
        await route.fulfill(response=response, body=json.dumps(me))

    await page.route("**/responders/me", with_fields)
    await page.get_by_role("button", name="Alerts").click()
    await page.get_by_role("button", name="Me", exact=True).click()
    box = page.locator("#me-verification")
    await expect(box).to_be_visible()
    await expect(box).to_contain_text("Verified: a coordinator checked your qualifications.")
    await expect(box).to_contain_text(planted)
    assert await page.locator("#planted").count() == 0
    webpush = page.locator("#me-devices li[data-device='999001']")
    await expect(webpush).to_contain_text("Web Push")
    await expect(webpush).to_contain_text("Web browser · via fcm.googleapis.com · since 3 Jan 2026")
    await box.scroll_into_view_if_needed()
    await screenshot(page, "me-verification-webpush")


async def test_export_downloads_my_data_as_json(world: World, new_context: NewContext) -> None:
    volunteer = await _volunteer(world, "Elsa Vienti")
    page = await _open_me(new_context, volunteer)
    async with page.expect_download() as info:
        await page.get_by_role("button", name="Download my data").click()
    download = await info.value
    assert download.suggested_filename == f"ehbo-my-data-{dt.date.today().isoformat()}.json"
    data = json.loads((await download.path()).read_text(encoding="utf-8"))
    assert data["profile"]["name"] == "Elsa Vienti"
    assert data["profile"]["id"] == volunteer.id
    assert {"exported_at", "alerts", "tokens"} <= data.keys()
    await expect(page.locator("#me-data-message")).to_contain_text("Downloaded")


async def test_log_out_ends_the_sign_in_on_the_service(
    world: World, new_context: NewContext
) -> None:
    volunteer = await _volunteer(world, "Lauri Ulos")
    page = await _open_me(new_context, volunteer)
    await page.get_by_role("button", name="Log out").click()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await expect(page.locator("#signin-message")).to_have_text("You are logged out.")
    assert (await world.http.get("/responders/me", headers=volunteer.headers)).status_code == 401
    assert await page.evaluate("localStorage.getItem('ehbo.app.token')") is None

    # The header's "Sign out" does the same, from any view (no longer only forgets locally).
    other = await _volunteer(world, "Saara Sivulle")
    context = await new_context(viewport=ME_PHONE, is_mobile=True, has_touch=True)
    phone = await context.new_page()
    await sign_in_volunteer(phone, other.token)
    await phone.get_by_role("button", name="Sign out").click()
    await expect(phone.get_by_role("heading", name="Sign in")).to_be_visible()
    assert (await world.http.get("/responders/me", headers=other.headers)).status_code == 401


async def test_log_out_the_service_did_not_confirm_keeps_me_signed_in(
    world: World, new_context: NewContext
) -> None:
    """Forgetting the token on the phone alone would leave it working on the service: when
    the log-out is not confirmed, the volunteer stays signed in and is told so."""
    volunteer = await _volunteer(world, "Oskari Offline")
    page = await _open_me(new_context, volunteer)

    async def unavailable(route: Route) -> None:
        await route.fulfill(
            status=503,
            content_type="application/json",
            body=json.dumps({"code": "unavailable", "detail": "the service is busy"}),
        )

    await page.route("**/responders/me/logout", unavailable)
    await page.get_by_role("button", name="Alerts").click()
    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(re.compile(r"#/me$"))
    await expect(page.locator("#me-logout-message")).to_have_text(
        "Not logged out: the service is busy. You are still signed in; try again when you "
        "are online."
    )
    assert (await world.http.get("/responders/me", headers=volunteer.headers)).status_code == 200
    await page.unroute("**/responders/me/logout")
    await page.get_by_role("button", name="Log out").click()
    await expect(page.locator("#signin-message")).to_have_text("You are logged out.")
    assert (await world.http.get("/responders/me", headers=volunteer.headers)).status_code == 401


async def test_erase_needs_erase_typed_and_removes_the_volunteer(
    world: World, new_context: NewContext, clean_db: AsyncEngine
) -> None:
    volunteer = await _volunteer(world, "Eero Poisto")
    page = await _open_me(new_context, volunteer)
    await page.get_by_role("button", name="Erase my account…").click()
    dialog = page.locator("#erase-dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text("This deletes, for good")
    erase = dialog.get_by_role("button", name="Erase my account", exact=True)
    await expect(erase).to_be_disabled()
    for almost in ("erase", "ERAS", "ERASE ME"):
        await page.get_by_label("Type ERASE to confirm").fill(almost)
        await expect(erase).to_be_disabled()
    await page.get_by_label("Type ERASE to confirm").fill("ERASE")
    await expect(erase).to_be_enabled()
    await screenshot(page, "me-erase-dialog")
    # Keeping it sends nothing.
    await dialog.get_by_role("button", name="Keep my account").click()
    await expect(dialog).to_be_hidden()
    assert (await world.http.get("/responders/me", headers=volunteer.headers)).status_code == 200

    await page.get_by_role("button", name="Erase my account…").click()
    await expect(erase).to_be_disabled()  # typed again every time
    await page.get_by_label("Type ERASE to confirm").fill("ERASE")
    await erase.click()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await expect(page.locator("#signin-message")).to_have_text("Your account was erased.")
    assert (await world.http.get("/responders/me", headers=volunteer.headers)).status_code == 401
    async with clean_db.connect() as conn:
        left = await conn.execute(
            text("SELECT count(*) FROM responders WHERE id = :id"), {"id": volunteer.id}
        )
        assert left.scalar_one() == 0


async def test_a_refused_token_on_the_me_view_goes_back_to_sign_in(
    world: World, new_context: NewContext
) -> None:
    """The token stopped working elsewhere (logged out on another phone): the Me view's next
    request ends the sign-in here too, and the device it registered is forgotten."""
    volunteer = await _volunteer(world, "Ville Vanha")
    page = await _open_me(new_context, volunteer)
    await page.evaluate(f"localStorage.setItem('{DEVICE_KEY}', '7')")
    out = await world.http.post("/responders/me/logout", headers=volunteer.headers)
    assert out.status_code in (200, 204), out.text
    await page.get_by_role("button", name="Save profile").click()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert await page.evaluate("sessionStorage.getItem('ehbo.app.token')") is None
    assert await page.evaluate("localStorage.getItem('ehbo.app.token')") is None
    assert await page.evaluate(f"localStorage.getItem('{DEVICE_KEY}')") is None
