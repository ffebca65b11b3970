"""The demo phone: the pushes the local FCM server received for a demo volunteer, and their
alert screen opened beside it."""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.web.conftest import CENTRE, CONSOLE, NewContext, Outside, World, screenshot


async def test_demo_phone_shows_pushes_and_opens_the_alert(
    world: World, new_context: NewContext, outside: Outside
) -> None:
    listed = await world.http.get("/demo/volunteers")
    assert listed.status_code == 200
    assert {v["id"] for v in listed.json()} == {v.id for v in world.volunteers}
    assert not any(v.token in listed.text for v in world.volunteers), "tokens leaked"

    reported = await world.http.post(
        "/incidents",
        headers=world.operator_headers,
        json={
            "kind": "unconscious",
            "location": {"lat": CENTRE[0], "lon": CENTRE[1]},
            "address": "Keskuskatu 3",
        },
    )
    assert reported.status_code == 201, reported.text
    alert = next(
        a
        for a in reported.json()["alerts"]
        if a["role"] == "via_aed" and world.volunteer(a["responder_id"]).device
    )
    volunteer = world.volunteer(alert["responder_id"])

    page = await (await new_context(viewport=CONSOLE)).new_page()
    await page.goto("/demo/phone")
    pushed = page.locator("#pushed").get_by_role("button", name=re.compile(volunteer.name))
    await expect(pushed).to_contain_text("1 push")
    await pushed.click()
    await expect(page.locator("#who")).to_contain_text(volunteer.device or "?")
    push = page.locator(f"#pushes li[data-alert='{alert['id']}']")
    await expect(push).to_contain_text(f"alert #{alert['id']}")
    await expect(page.get_by_label("All demo volunteers")).to_have_value(str(volunteer.id))

    await push.get_by_role("button", name=f"Open alert #{alert['id']} on the phone").click()
    screen = page.frame_locator("#screen")
    await expect(screen.locator("#role-box")).to_contain_text("Fetch the AED at")
    # The cabinet code comes only once the fetcher has accepted (tests/api/test_privacy.py).
    await expect(screen.locator("#role-box")).to_contain_text("code shows once you accept")
    await expect(screen.locator("#role-box .code")).to_have_count(0)
    await screen.get_by_role("button", name="Accept: I'm going").click()
    await expect(screen.locator("#alert-status")).to_have_text("Accepted")
    await expect(screen.locator("#role-box .code")).to_have_text(re.compile(r"^\d{4}$"))
    await screenshot(page, "demo-phone")
    detail = await world.incident(reported.json()["id"])
    assert next(a for a in detail["alerts"] if a["id"] == alert["id"])["status"] == "accepted"

    # Closing stands the volunteer down: a second push reaches the same phone.
    closed = await world.http.post(
        f"/incidents/{reported.json()['id']}/close",
        headers=world.operator_headers,
        json={"reason": "ems_took_over"},
    )
    assert closed.status_code == 200
    await expect(page.locator("#pushes li[data-kind='stand_down']")).to_have_count(1)
    await expect(screen.locator("#stand-down")).to_contain_text("the incident is closed")
    assert outside.urls == []
