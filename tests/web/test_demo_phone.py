"""The demo phone: the pushes a demo volunteer's phone got (from the local FCM server and the
local Web Push service), and their alert screen opened beside it."""

from __future__ import annotations

import asyncio
import json
import re

from playwright.async_api import expect
from py_vapid import Vapid
from pywebpush import webpush

from responders.emulators.webpush import SubscriberKeys
from responders.web.demo import volunteer_subscription
from tests.web.conftest import (
    CENTRE,
    CONSOLE,
    NewContext,
    Outside,
    World,
    screenshot,
    with_webpush,
)


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


async def test_demo_phone_shows_web_push_beside_fcm_newest_first(
    world: World, new_context: NewContext, outside: Outside
) -> None:
    """Issue 15: the demo phone lists both channels' pushes, each with its badge; a Web Push
    shows what its (encrypted) payload said, read with the subscription's private key."""
    assert (await world.http.get("/demo/webpush/messages")).status_code == 404  # not mounted
    service = with_webpush(world.server)
    incident = await world.dispatch("Keskuskatu 3")
    alert = next(a for a in incident["alerts"] if world.volunteer(a["responder_id"]).device)
    volunteer = world.volunteer(alert["responder_id"])
    keys = SubscriberKeys.generate()
    endpoint = volunteer_subscription(service, world.server.url, volunteer.id, keys)
    assert endpoint.startswith(f"{world.server.url}/webpush/push/")

    page = await (await new_context(viewport=CONSOLE)).new_page()
    await page.goto("/demo/phone")
    await page.get_by_label("All demo volunteers").select_option(str(volunteer.id))
    fcm = page.locator("#pushes li[data-channel='fcm']")
    await expect(fcm.first).to_contain_text(f"alert #{alert['id']}")

    payload = {
        "v": "1",
        "kind": "alert",
        "alert_id": str(alert["id"]),
        "incident_id": str(incident["id"]),
        "role": alert["role"],
        "title": "Help needed <b>now</b>",  # text from a payload stays text
        "body": "Someone collapsed 200 m from you",
        "url": f"/app#/alerts/{alert['id']}",
        "tag": f"incident-{incident['id']}",
    }
    vapid = Vapid()
    vapid.generate_keys()
    sent = await asyncio.to_thread(
        webpush,
        keys.subscription(endpoint),
        json.dumps(payload),
        vapid_private_key=vapid,
        vapid_claims={"sub": "mailto:ops@ehbo.example"},
        ttl=60,
        headers={"Urgency": "high", "Topic": f"incident-{incident['id']}"},
    )
    assert sent.status_code == 201

    newest = page.locator("#pushes li").first
    await expect(newest).to_have_attribute("data-channel", "webpush")
    await expect(newest.locator(".badge")).to_have_text("Web Push")
    await expect(newest.locator(".title")).to_have_text("Web Push Help needed <b>now</b>")
    await expect(newest.locator("b")).to_have_count(0)
    await expect(newest).to_contain_text("Someone collapsed 200 m from you")
    await expect(newest).to_contain_text(f"Alert push for alert #{alert['id']}")
    await expect(page.locator("#pushes li").nth(1).locator(".badge")).to_have_text("FCM")
    pushed = page.locator("#pushed").get_by_role("button", name=re.compile(volunteer.name))
    await expect(pushed).to_contain_text(f"{await page.locator('#pushes li').count()} pushes")
    await screenshot(page, "demo-phone-web-push")

    await newest.get_by_role("button", name=f"Open alert #{alert['id']} on the phone").click()
    await expect(page.frame_locator("#screen").locator("#role-box")).to_be_visible()

    [listed] = (await world.http.get("/demo/webpush/messages")).json()
    assert listed["payload"] == payload
    assert (listed["responder_id"], listed["endpoint"]) == (volunteer.id, endpoint)
    assert (listed["urgency"], listed["topic"], listed["ttl"]) == (
        "high",
        f"incident-{incident['id']}",
        60,
    )
    assert outside.urls == []
