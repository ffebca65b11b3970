"""The caller who reported (issue 14, item 5): after sending, the citizen page becomes the
report's status view at a link only the reporter holds, and keeps saying what happens as
the real lifecycle moves on (an operator opens it, confirms, a volunteer accepts, the
incident is closed); a reload or another tab shows the same; hands-only CPR and the nearest
AED open now, with its walking route, are shown while they wait. Played twice in one tab."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest_asyncio
from playwright.async_api import Page, Request, expect

from responders.db.gateway import Database
from responders.geo import default_extract
from responders.geocode import BuildReport, build_from_extract
from responders.settings import Settings
from tests.web.conftest import CENTRE, NewContext, World, screenshot

# The phone of the brief: the screenshots are taken at this size.
PHONE_390 = {"width": 390, "height": 844}
# The page asks every 5 s: each change shows within one round trip after that (with room
# for a machine busy with other tests).
LIVE = 15_000


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def geocode_index(db: Database, settings: Settings) -> BuildReport:
    """The address index of the extract (kept by `clean_db`; built once, or found current)."""
    return await build_from_extract(db, default_extract(), cache_dir=settings.routing.cache_dir)


async def _send_report(citizen: Page, world: World) -> tuple[int, str]:
    await citizen.goto("/report")
    await citizen.get_by_role("button", name="Use my location").click()
    await expect(citizen.locator("#where-status")).to_contain_text("from your phone")
    # The picked point is named: the nearest address, as reverse geocoding answers it.
    lat = await citizen.get_by_label("Latitude").input_value()
    lon = await citizen.get_by_label("Longitude").input_value()
    named = await world.http.get("/geocode/reverse", params={"lat": lat, "lon": lon})
    assert named.status_code == 200, named.text
    (feature,) = named.json()["features"]
    await expect(citizen.locator("#where-near")).to_have_text(
        f"Near {feature['properties']['label']}"
    )
    await citizen.get_by_label("Collapsed, not breathing normally").check()
    await citizen.get_by_label("Your phone number").fill("+358 40 765 4321")
    await citizen.locator("#where-near").scroll_into_view_if_needed()
    await screenshot(citizen, "citizen-report-near")
    await citizen.get_by_role("button", name="Send report").click()
    await expect(citizen.get_by_role("heading", name="Report received")).to_be_visible(timeout=LIVE)
    await expect(citizen.locator("#report-form")).to_be_hidden()
    # The URL is now the status link; the token is its fragment.
    await expect(citizen).to_have_url(re.compile(r"/report/status#[\w-]{43,}$"))
    token = citizen.url.split("#", 1)[1]
    report_id = int(re.findall(r"\d+", await citizen.locator("#done-id").inner_text())[0])
    return report_id, token


async def _settled(world: World, incident_id: int) -> dict[str, Any]:
    """The incident once the push worker has sent (or failed) every alert."""
    for _ in range(100):
        incident = await world.incident(incident_id)
        if all(a["status"] != "queued" for a in incident["alerts"]):
            return incident
        await asyncio.sleep(0.1)
    raise AssertionError("alerts stayed queued")


async def _says(page: Page, text: str) -> None:
    await expect(page.locator("#status-headline")).to_have_text(text, timeout=LIVE)


async def _shows_guidance(citizen: Page, addresses: set[str]) -> None:
    cpr = citizen.get_by_role("region", name="Hands-only CPR")
    await expect(cpr).to_be_visible()
    steps = cpr.get_by_role("listitem")
    await expect(steps).to_have_count(5)
    await expect(steps.nth(0)).to_contain_text("Call 112")
    await expect(steps.nth(1)).to_contain_text("centre of the chest")
    await expect(steps.nth(2)).to_contain_text("5\u20136 cm deep, 100\u2013120 times a minute")
    await expect(steps.nth(3)).to_contain_text("Do not stop")
    await expect(steps.nth(4)).to_contain_text("AED")
    aed = citizen.get_by_role("region", name="Nearest AED open now")
    # Found and routed on the server (a graph search, then a route): slower than a read.
    await expect(aed.locator("#aed-text")).to_contain_text("min away on foot", timeout=LIVE)
    await expect(aed.locator("#aed-walk")).to_contain_text(re.compile(r"\d+ (min|s) on foot"))
    assert await aed.locator("#aed-address").inner_text() in addresses
    # The walking route from the person to the AED, both marked on the map.
    await expect(aed.locator("#aed-map path.route")).to_have_count(1, timeout=LIVE)
    await expect(aed.locator("#aed-map .aed-icon")).to_have_count(1)
    await expect(aed.locator("#aed-map .pin-icon")).to_have_count(1)


async def test_the_reporter_follows_the_report_live_to_its_end(
    world: World, new_context: NewContext, geocode_index: BuildReport
) -> None:
    context = await new_context(
        viewport=PHONE_390,
        is_mobile=True,
        has_touch=True,
        geolocation={"latitude": CENTRE[0] + 0.0004, "longitude": CENTRE[1] + 0.0002},
        permissions=["geolocation"],
    )
    citizen = await context.new_page()
    asked: list[Request] = []
    citizen.on("request", lambda r: asked.append(r) if "/reports/status" in r.url else None)
    addresses = {a["address"] for a in world.aeds}
    http, operator = world.http, world.operator_headers

    for round_ in (1, 2):
        report_id, token = await _send_report(citizen, world)
        await _says(citizen, "Received: waiting for a dispatcher.")
        await _shows_guidance(citizen, addresses)
        await expect(citizen.get_by_role("status")).to_contain_text("waiting for a dispatcher")

        # An operator opens the report: "a dispatcher is looking".
        assert (await world.incident(report_id))["status"] == "triage"
        await _says(citizen, "A dispatcher is looking at your report.")
        await expect(citizen.locator("#status-steps [aria-current='step']")).to_have_text(
            "A dispatcher is looking"
        )

        confirmed = await http.post(f"/incidents/{report_id}/confirm", headers=operator)
        assert confirmed.status_code == 200, confirmed.text
        incident = await _settled(world, report_id)
        reached = [a for a in incident["alerts"] if a["status"] != "failed"]
        assert len(reached) >= 5
        await _says(citizen, f"Help is on the way: {len(reached)} volunteers alerted, 0 coming.")
        if round_ == 1:
            await screenshot(citizen, "citizen-status-help")
            await citizen.locator("#aed-map").scroll_into_view_if_needed()
            await screenshot(citizen, "citizen-status-aed")
            await citizen.evaluate("window.scrollTo(0, 0)")

        first = reached[0]
        volunteer = world.volunteer(first["responder_id"])
        accepted = await http.post(f"/alerts/{first['id']}/accept", headers=volunteer.headers)
        assert accepted.status_code == 200, accepted.text
        coming = f"Help is on the way: {len(reached)} volunteers alerted, 1 coming."
        await _says(citizen, coming)

        # A reload, and the link opened in another tab, show the same.
        await citizen.reload()
        await _says(citizen, coming)
        await expect(citizen.locator("#report-form")).to_be_hidden()
        await expect(citizen.locator("#done-id")).to_contain_text(f"Report number {report_id}")
        await _shows_guidance(citizen, addresses)
        other = await context.new_page()
        await other.goto(f"/report/status#{token}")
        await _says(other, coming)
        await other.close()

        closed = await http.post(
            f"/incidents/{report_id}/close", headers=operator, json={"reason": "ems_took_over"}
        )
        assert closed.status_code == 200, closed.text
        await _says(citizen, "The incident is closed.")
        await expect(citizen.locator("#status-detail")).to_contain_text("Thank you")
        await expect(citizen.get_by_role("region", name="Hands-only CPR")).to_be_hidden()
        await expect(citizen.locator("#status-error")).to_be_hidden()
        if round_ == 1:
            await screenshot(citizen, "citizen-status-closed")

        # The token went in a header, never in a path or query, and only to this report.
        mine = [r for r in asked if token in (await r.all_headers()).get("x-report-token", "")]
        assert mine and all(token not in r.url for r in asked)
        # Nothing the page showed named a volunteer.
        shown = await citizen.locator("main").inner_text()
        assert not any(v.name in shown for v in world.volunteers)


async def test_an_unknown_link_and_a_failing_service_are_said_next_to_the_status(
    world: World, new_context: NewContext
) -> None:
    context = await new_context(viewport=PHONE_390, is_mobile=True, has_touch=True)
    citizen = await context.new_page()
    await citizen.goto("/report/status#" + "x" * 43)
    alert = citizen.locator("#report-done").get_by_role("alert")
    await expect(alert).to_contain_text("This status link does not match any report")
    await _says(citizen, "This report cannot be found.")
    await expect(citizen.locator("#report-form")).to_be_hidden()

    # A real report, then the service stops answering: the page says so where the status
    # is, keeps the last status, and recovers by itself.
    sent = await world.http.post(
        "/reports", json={"kind": "unconscious", "location": {"lat": CENTRE[0], "lon": CENTRE[1]}}
    )
    token = sent.json()["status_token"]
    await citizen.goto(f"/report/status#{token}")
    await _says(citizen, "Received: waiting for a dispatcher.")
    # Not a cardiac arrest: CPR is for when breathing stops.
    await expect(citizen.locator("#cpr-when")).to_contain_text("If the person stops responding")
    await context.route("**/reports/status", lambda route: route.abort("connectionrefused"))
    await expect(alert).to_contain_text("Could not update the status", timeout=LIVE)
    await expect(alert).to_contain_text("call 112")
    await _says(citizen, "Received: waiting for a dispatcher.")
    await context.unroute("**/reports/status")
    await world.incident(sent.json()["id"])  # an operator opens it meanwhile
    await _says(citizen, "A dispatcher is looking at your report.")
    await expect(alert).to_be_hidden()
