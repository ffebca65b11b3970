"""The citizen's report page (375 px): 112 first, where, what, call-back; the report waits in
the operator's triage queue and alerts nobody until confirmed."""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.web.conftest import (
    CENTRE,
    CONSOLE,
    PHONE,
    NewContext,
    Outside,
    World,
    screenshot,
    sign_in_console,
)


async def test_citizen_report_waits_in_triage_until_confirmed(
    world: World, new_context: NewContext, outside: Outside
) -> None:
    context = await new_context(
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        geolocation={"latitude": CENTRE[0] + 0.0004, "longitude": CENTRE[1] + 0.0002},
        permissions=["geolocation"],
    )
    citizen = await context.new_page()
    await citizen.goto("/report")
    # The first thing on the page: 112 must still be called.
    first = citizen.locator("main > *").first
    await expect(first).to_contain_text("Call 112 first.")
    await expect(first.get_by_role("link", name="Call 112")).to_have_attribute("href", "tel:112")

    # Nothing chosen yet: the page says what is missing, calmly.
    await citizen.get_by_role("button", name="Send report").click()
    await expect(citizen.locator("#report-message")).to_contain_text("Where is the person?")

    await citizen.get_by_role("button", name="Use my location").click()
    await expect(citizen.get_by_label("Latitude")).to_have_value(re.compile(r"^60\.1720"))
    await expect(citizen.locator("#where-status")).to_contain_text("from your phone")
    await citizen.get_by_role("button", name="Send report").click()
    await expect(citizen.locator("#report-message")).to_contain_text("What happened?")
    await citizen.get_by_label("Collapsed, not breathing normally").check()
    await citizen.get_by_label("Your phone number").fill("call me maybe")
    await citizen.get_by_role("button", name="Send report").click()
    # The sentence stands under the phone input (issue 12 #20), never a pattern.
    await expect(citizen.locator("#report-message")).to_contain_text("check the marked fields")
    await expect(citizen.locator("#phone-error")).to_have_text(
        "Enter a phone number we can call, e.g. +358 40 123 4567."
    )
    await expect(citizen.get_by_label("Your phone number")).to_have_attribute(
        "aria-invalid", "true"
    )
    await citizen.get_by_label("Your phone number").fill("+358 40 765 4321")
    await citizen.get_by_label("Anything else (optional)").fill("Man collapsed at the tram stop")
    await screenshot(citizen, "citizen-report-form")
    await citizen.get_by_role("button", name="Send report").click()

    await expect(citizen.get_by_role("heading", name="Report received")).to_be_visible()
    await expect(citizen.locator("#done-message")).to_contain_text("reached the dispatch centre")
    await expect(citizen.locator("#done-id")).to_contain_text("(triage)")
    report_id = int(re.findall(r"\d+", await citizen.locator("#done-id").inner_text())[0])
    await screenshot(citizen, "citizen-report-sent")
    report = await world.incident(report_id)
    assert report["source"] == "citizen" and report["status"] == "triage"
    assert report["kind"] == "cardiac_arrest" and report["alerts"] == []
    assert report["callback_phone"] == "+358407654321"  # stored in E.164

    # The operator sees it in the triage queue; nobody is alerted until they confirm.
    console = await (await new_context(viewport=CONSOLE)).new_page()
    await sign_in_console(console, world.operator)
    queued = console.locator("#triage-list").get_by_role(
        "button", name=re.compile(f"#{report_id} ")
    )
    await expect(queued).to_contain_text("Citizen report")
    await expect(console.locator("#triage-count")).to_have_text("1")
    await queued.click()
    await expect(console.locator("#incident-status")).to_have_text("Triage")
    await expect(console.locator("#alerts-empty")).to_contain_text("nobody is alerted")
    await expect(console.locator("#incident-facts")).to_contain_text("+358407654321")
    await expect(console.locator("#incident-facts")).to_contain_text(
        "Man collapsed at the tram stop"
    )
    await screenshot(console, "console-triage")
    assert (await world.incident(report_id))["alerts"] == []

    await console.get_by_role("button", name="Confirm and alert").click()
    await expect(console.locator("#incident-status")).to_have_text("Active")
    await expect(console.get_by_role("button", name="Confirm and alert")).to_be_hidden()
    confirmed = await world.incident(report_id)
    assert confirmed["status"] == "active" and len(confirmed["alerts"]) >= 5
    await expect(console.locator("#alerts-table tbody tr")).to_have_count(len(confirmed["alerts"]))
    await expect(console.locator("#triage-list")).to_contain_text("No citizen reports waiting.")
    await expect(console.locator("#timeline li[data-kind='confirmed']")).to_have_count(1)

    # A false alarm after all: cancelling stands every alerted volunteer down.
    await console.get_by_role("button", name="Cancel incident").click()
    # (issue 14: cancelling asks why, in a dialog)
    await console.get_by_role("radio", name="Hoax or mistake").check()
    await console.get_by_role("button", name="Confirm", exact=True).click()
    await expect(console.locator("#incident-status")).to_have_text("Cancelled")
    await expect(console.locator("#open-list")).to_contain_text("No open incidents.")
    cancelled = await world.incident(report_id)
    reasons = {a["stand_down_reason"] for a in cancelled["alerts"] if a["status"] != "failed"}
    assert cancelled["status"] == "cancelled" and reasons == {"cancelled"}
    await expect(console.locator("#alerts-table")).not_to_contain_text("Push sent")
    assert outside.urls == []
