"""The whole story in three browsers: an operator reports an incident by clicking the map,
volunteers appear with roles and walking times, one accepts on their phone and arrives, the
console follows along without a reload (event stream), the operator closes, the phones
stand down."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.web.conftest import (
    CONSOLE,
    PHONE,
    NewContext,
    Outside,
    World,
    screenshot,
    sign_in_console,
    sign_in_volunteer,
)

ALIVE = "window.__sameDocument = true"


async def _open_alert(
    new_context: NewContext, world: World, responder_id: int, alert_id: int
) -> Page:
    context = await new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = await context.new_page()
    await sign_in_volunteer(page, world.volunteer(responder_id).token, alert_id)
    return page


async def test_operator_volunteer_story(
    world: World, new_context: NewContext, outside: Outside
) -> None:
    console = await (await new_context(viewport=CONSOLE)).new_page()
    await sign_in_console(console, world.operator)

    # Report by clicking the middle of the map.
    await console.locator("#map").click()
    await expect(console.get_by_label("Latitude")).to_have_value(re.compile(r"^60\.17\d+"))
    await expect(console.get_by_label("Longitude")).to_have_value(re.compile(r"^24\.94\d+"))
    await console.get_by_label("What happened").select_option("cardiac_arrest")
    await console.get_by_label("Address", exact=True).fill("Rautatientori 1")
    await console.get_by_role("button", name="Report incident and alert").click()

    await expect(console.locator("#incident-title")).to_have_text(
        re.compile(r"#\d+ Cardiac arrest")
    )
    incident_id = int((await console.locator("#incident-title").inner_text()).split()[0][1:])
    await console.evaluate(ALIVE)
    detail = await world.incident(incident_id)
    alerts = detail["alerts"]
    assert detail["status"] == "active" and len(alerts) >= 5
    rows = console.locator("#alerts-table tbody tr")
    await expect(rows).to_have_count(len(alerts))
    for alert in alerts:
        row = console.locator(f"#alerts-table tr[data-alert='{alert['id']}']")
        await expect(row).to_contain_text(alert["responder_name"])
        await expect(row).to_contain_text("Via AED" if alert["role"] == "via_aed" else "Direct")
    roles = {a["role"] for a in alerts}
    assert roles == {"direct", "via_aed"}, roles
    # Before an answer, each shows their walking time: nobody walks yet, so no countdown
    # (issue 14: the ETA counts from the acceptance, tests/web/test_console_glance.py).
    first = alerts[0]
    eta = console.locator(f"td.eta[data-alert='{first['id']}']")
    await expect(eta).to_have_text(re.compile(r"^\d+ (min|s) walk$"))
    before = await eta.inner_text()
    await console.wait_for_timeout(1500)
    await expect(eta).to_have_text(before)
    # The AEDs in play, and who fetches which.
    for aed in detail["aeds"]:
        await expect(console.locator(f"#aed-list li[data-aed='{aed['id']}']")).to_contain_text(
            "fetched by"
        )
    # The volunteer without a phone: the failed push shows.
    phoneless = next(a for a in alerts if a["responder_name"] == "Toivo Ilman-puhelinta")
    failed_row = console.locator(f"#alerts-table tr[data-alert='{phoneless['id']}']")
    await expect(failed_row).to_contain_text("Push failed")
    await expect(failed_row).to_contain_text("no registered device")
    await expect(console.locator("#push-failures")).to_contain_text("failed")
    await expect(console.locator("#timeline li[data-kind='push_failed:alert']")).to_have_count(1)
    # Dispatch stores no routes: the console asks GET /route for every volunteer's and draws them.
    working = [a for a in alerts if a["id"] != phoneless["id"]]
    await expect(console.locator("#map path.route")).to_have_count(len(alerts), timeout=10_000)
    await expect(console.locator("#map path.volunteer")).to_have_count(len(alerts))
    await expect(console.locator("#timeline li[data-kind='push_sent:alert']")).to_have_count(
        len(working)
    )
    await screenshot(console, "console-dispatched")

    # The fastest direct volunteer and one AED fetcher open their alerts on their phones.
    direct = next(a for a in working if a["role"] == "direct")
    fetcher = next(a for a in working if a["role"] == "via_aed")
    phone = await _open_alert(new_context, world, direct["responder_id"], direct["id"])
    await expect(phone.locator("#role-box")).to_contain_text("Go straight to the victim")
    await expect(phone.locator("#alert-where")).to_contain_text("Rautatientori 1")
    await expect(phone.locator("#fact-distance")).to_have_text(re.compile(r"^\d+ m$|km$"))
    await expect(phone.locator("#alert-map path.route")).to_have_count(1)
    await expect(console.locator(f"#alerts-table tr[data-alert='{direct['id']}']")).to_contain_text(
        "Seen on phone"
    )

    aed_phone = await _open_alert(new_context, world, fetcher["responder_id"], fetcher["id"])
    aed = next(a for a in world.aeds if a["id"] == fetcher["aed_id"])
    # The cabinet code only once the fetcher has accepted (tests/api/test_privacy.py).
    aed_role = aed_phone.locator("#role-box")
    await expect(aed_role).to_contain_text(
        f"Fetch the AED at {aed['address']} first (a locked cabinet's code shows once you accept)"
    )
    await expect(aed_role).not_to_contain_text(aed["cabinet_code"])

    # Accept: the console follows through the event stream, without a reload.
    await phone.get_by_role("button", name="Accept: I'm going").click()
    await expect(phone.locator("#alert-status")).to_have_text("Accepted")
    direct_row = console.locator(f"#alerts-table tr[data-alert='{direct['id']}']")
    await expect(direct_row).to_contain_text("Accepted")
    await expect(console.locator("#timeline li[data-kind='alert_accepted']")).to_contain_text(
        f"{direct['responder_name']} accepted"
    )
    await expect(console.locator("#stream-status")).to_contain_text("live")
    await screenshot(phone, "volunteer-alert-accepted")
    await aed_phone.get_by_role("button", name="Accept: I'm going").click()
    await expect(aed_role).to_contain_text(
        f"Fetch the AED at {aed['address']} first, code {aed['cabinet_code']}"
    )
    await screenshot(aed_phone, "volunteer-alert-via-aed")

    await phone.get_by_role("button", name="I have arrived").click()
    await expect(phone.locator("#alert-status")).to_have_text("Arrived")
    await expect(direct_row).to_contain_text("Arrived")
    await expect(direct_row.locator("td.eta")).to_have_text("on scene")
    await screenshot(console, "console-accepted")
    assert await console.evaluate("window.__sameDocument") is True

    # The operator closes: the one still on the way stands down; the arrival stays an
    # arrival (issue 12, #6): no stand-down reaches the volunteer on scene.
    await console.get_by_role("button", name="Close incident").click()
    # (issue 14: closing asks how it ended, in a dialog)
    await console.get_by_role("radio", name="The ambulance crew took over").check()
    await console.get_by_role("button", name="Confirm", exact=True).click()
    await expect(console.locator("#incident-status")).to_have_text("Closed")
    await expect(console.get_by_role("button", name="Close incident")).to_be_hidden()
    await expect(phone.locator("#alert-status")).to_have_text("Arrived")
    await expect(phone.get_by_text("You are on scene.")).to_be_visible()
    await expect(phone.locator("#stand-down")).to_be_hidden()
    await expect(aed_phone.locator("#stand-down")).to_contain_text("the incident is closed")
    await expect(phone.get_by_role("button", name="I have arrived")).to_have_count(0)
    await screenshot(aed_phone, "volunteer-stand-down")
    after = await world.incident(incident_id)
    assert after["status"] == "closed"
    statuses = {a["id"]: (a["status"], a["stand_down_reason"]) for a in after["alerts"]}
    assert statuses[direct["id"]] == ("arrived", None)
    assert statuses[fetcher["id"]] == ("stood_down", "closed")
    assert outside.urls == []
