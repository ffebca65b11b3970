"""Issue 15 item 4: location only while it matters, in Chromium with a mocked geolocation.

Off makes no geolocation call and sends nothing; on duty sends the first fix at once, then
only after 100 m (or the time rule), survives a reload, and its Stop deletes the server's
point; responding (after Accept) sends a point every ~25 m and stops by itself after "I have
arrived" or when the incident ends. What the server stored is read back from the API.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from typing import Any

from playwright.async_api import BrowserContext, Page, Request, expect

from tests.web.conftest import (
    CENTRE,
    PHONE,
    NewContext,
    Outside,
    Volunteer,
    World,
    sign_in_volunteer,
)

# Metres to degrees of latitude (north-south moves only).
DEG_PER_M = 1 / 111_195
START = (CENTRE[0] - 0.002, CENTRE[1])  # about 220 m south of the victim

# Counts every geolocation call the page makes (the "off" mode must make none), and shortens
# the sharing intervals (a test does not wait five minutes).
_INIT = """
window.__geo = {watch: 0, current: 0, clear: 0};
for (const [name, key] of [["watchPosition", "watch"], ["getCurrentPosition", "current"],
                           ["clearWatch", "clear"]]) {
  const real = Geolocation.prototype[name];
  Geolocation.prototype[name] = function (...args) {
    window.__geo[key] += 1;
    return real.apply(this, args);
  };
}
window.EHBO_LOCATION_TUNING = %s;
"""
FAST = {"minGapSeconds": 0.1, "backoffSeconds": 0.5, "checkSeconds": 1}


def north(point: tuple[float, float], metres: float) -> tuple[float, float]:
    return (point[0] + metres * DEG_PER_M, point[1])


@dataclass
class Phone:
    """A signed-in volunteer's page with a mocked position and its location requests."""

    page: Page
    context: BrowserContext
    volunteer: Volunteer
    world: World
    puts: list[dict[str, Any]] = field(default_factory=list)
    deletes: int = 0
    errors: list[str] = field(default_factory=list)

    async def move(self, point: tuple[float, float]) -> None:
        await self.context.set_geolocation({"latitude": point[0], "longitude": point[1]})

    async def stored(self) -> tuple[float, float] | None:
        """The live point the server holds for this volunteer, as (lat, lon)."""
        me = await self.world.http.get("/responders/me", headers=self.volunteer.headers)
        live = me.json()["live_location"]
        if live is None:
            return None
        lon, lat = live["location"]["coordinates"]
        return (lat, lon)

    async def wait_stored(self, point: tuple[float, float] | None) -> None:
        for _ in range(100):
            got = await self.stored()
            if point is None and got is None:
                return
            if point is not None and got is not None and _near(got, point):
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"server holds {await self.stored()}, expected {point}")

    async def wait_puts(self, count: int) -> None:
        for _ in range(100):
            if len(self.puts) >= count:
                break
            await asyncio.sleep(0.1)
        assert len(self.puts) == count, self.puts

    async def geo(self) -> dict[str, int]:
        counts: dict[str, int] = await self.page.evaluate("window.__geo")
        return counts


def _near(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return abs(a[0] - b[0]) < 1e-6 and abs(a[1] - b[1]) < 1e-6


async def open_phone(
    new_context: NewContext,
    world: World,
    volunteer: Volunteer,
    *,
    tuning: dict[str, float] | None = None,
    geolocation: bool = True,
    **options: Any,
) -> Phone:
    context_options: dict[str, Any] = {"viewport": PHONE, "is_mobile": True, "has_touch": True}
    if geolocation:
        context_options["geolocation"] = {"latitude": START[0], "longitude": START[1]}
        context_options["permissions"] = ["geolocation"]
    context = await new_context(**{**context_options, **options})
    await context.add_init_script(_INIT % json.dumps({**FAST, **(tuning or {})}))
    page = await context.new_page()
    phone = Phone(page, context, volunteer, world)

    def on_request(request: Request) -> None:
        if request.url.endswith("/responders/me/location"):
            if request.method == "PUT":
                phone.puts.append(json.loads(request.post_data or "{}"))
            elif request.method == "DELETE":
                phone.deletes += 1

    page.on("request", on_request)
    page.on("pageerror", lambda error: phone.errors.append(str(error)))
    await sign_in_volunteer(page, volunteer.token)
    return phone


async def alerted(world: World, address: str) -> tuple[dict[str, Any], Volunteer]:
    """An incident at CENTRE; its first direct alert (with its incident's id) and that
    alert's volunteer."""
    incident = await world.dispatch(address)
    alert = next(a for a in incident["alerts"] if a["role"] == "direct")
    return {**alert, "incident_id": incident["id"]}, world.volunteer(alert["responder_id"])


async def accept(phone: Phone, alert_id: int) -> None:
    await phone.page.goto(f"/app#/alerts/{alert_id}")
    await phone.page.get_by_role("button", name="Accept: I'm going").click()
    await expect(phone.page.locator("#alert-status")).to_have_text("Accepted")


async def quiet(phone: Phone, seconds: float = 1.5) -> None:
    """Time for anything wrongly scheduled to be sent."""
    await asyncio.sleep(seconds)


async def test_responding_sends_every_25_m_and_stops_after_arrived(
    world: World, new_context: NewContext, outside: Outside
) -> None:
    alert, volunteer = await alerted(world, "Responding 1")
    phone = await open_phone(new_context, world, volunteer)
    bar = phone.page.locator("#location-bar")
    await expect(bar).to_be_hidden()
    assert phone.puts == []

    await accept(phone, alert["id"])
    await expect(bar).to_be_visible()
    await expect(bar).to_contain_text("Sharing your location until you arrive")
    await phone.wait_puts(1)  # at once on start
    await phone.wait_stored(START)

    here = north(START, 30)
    await phone.move(here)
    await phone.wait_puts(2)
    await phone.wait_stored(here)
    # 10 m is not yet a step: nothing sent, the server keeps the last point.
    await phone.move(north(here, 10))
    await quiet(phone)
    assert len(phone.puts) == 2
    here = north(here, 27)
    await phone.move(here)
    await phone.wait_puts(3)
    await phone.wait_stored(here)
    assert [round(p["lat"], 6) for p in phone.puts] == [
        round(START[0], 6),
        round(north(START, 30)[0], 6),
        round(here[0], 6),
    ]

    await phone.page.get_by_role("button", name="I have arrived").click()
    await expect(phone.page.locator("#alert-status")).to_have_text("Arrived")
    await expect(bar).to_be_hidden()
    # On duty was off before: sharing ends, and the point is deleted.
    await phone.wait_stored(None)
    assert phone.deletes == 1
    geo = await phone.geo()
    assert geo["watch"] == 1 and geo["clear"] >= 1 and geo["current"] == 0
    await phone.move(north(here, 200))
    await quiet(phone)
    assert len(phone.puts) == 3
    assert await phone.stored() is None
    assert phone.errors == []
    assert outside.urls == []


async def test_responding_stops_by_itself_when_the_incident_ends(
    world: World, new_context: NewContext
) -> None:
    alert, volunteer = await alerted(world, "Responding 2")
    phone = await open_phone(new_context, world, volunteer)
    await accept(phone, alert["id"])
    await phone.wait_puts(1)
    # The volunteer looks at their list, not at the alert: the stand-down is still noticed.
    await phone.page.get_by_role("button", name="Alerts").click()
    closed = await world.http.post(
        f"/incidents/{alert['incident_id']}/close",
        headers=world.operator_headers,
        json={"reason": "ems_took_over"},
    )
    assert closed.status_code == 200, closed.text
    await expect(phone.page.locator("#location-bar")).to_be_hidden(timeout=5000)
    await phone.wait_stored(None)
    await phone.move(north(START, 100))
    await quiet(phone)
    assert len(phone.puts) == 1
    assert phone.errors == []


async def test_off_never_asks_for_the_position_and_sends_nothing(
    world: World, new_context: NewContext, outside: Outside
) -> None:
    alert, volunteer = await alerted(world, "Off 1")
    phone = await open_phone(new_context, world, volunteer)
    page = phone.page
    await page.get_by_role("button", name="Availability").click()
    await expect(page.get_by_role("radio", name=re.compile("^Off"))).to_be_checked()
    await expect(page.locator("#sharing")).to_contain_text(
        "cannot share its position while it is closed or in the background"
    )
    await page.goto(f"/app#/alerts/{alert['id']}")
    await expect(page.locator("#alert-status")).to_have_text("Seen on phone")
    await phone.move(north(START, 300))
    await page.get_by_role("button", name="Decline: I can't go").click()
    await expect(page.locator("#alert-status")).to_have_text("Declined")
    await page.reload()
    await expect(page.locator("#alert-status")).to_have_text("Declined")
    await quiet(phone)
    assert await phone.geo() == {"watch": 0, "current": 0, "clear": 0}
    assert phone.puts == [] and phone.deletes == 0
    await expect(page.locator("#location-bar")).to_be_hidden()
    assert phone.errors == []
    assert outside.urls == []


async def test_on_duty_sends_after_100_m_survives_a_reload_and_stop_deletes_the_point(
    world: World, new_context: NewContext, outside: Outside
) -> None:
    volunteer = world.volunteers[0]
    phone = await open_phone(new_context, world, volunteer)
    page = phone.page
    await page.get_by_role("button", name="Availability").click()
    await page.get_by_role("radio", name=re.compile("^On duty")).check()
    bar = page.locator("#location-bar")
    await expect(bar).to_contain_text("Sharing your location: on duty")
    await phone.wait_puts(1)  # the first fix at once
    await phone.wait_stored(START)

    await phone.move(north(START, 60))
    await quiet(phone)
    assert len(phone.puts) == 1  # 60 m: not yet
    far = north(START, 110)
    await phone.move(far)
    await phone.wait_puts(2)
    await phone.wait_stored(far)

    await page.reload()
    await expect(bar).to_contain_text("Sharing your location: on duty")
    await page.get_by_role("button", name="Availability").click()
    await expect(page.get_by_role("radio", name=re.compile("^On duty"))).to_be_checked()
    await phone.wait_puts(3)  # a new watch: its first fix is sent at once

    await bar.get_by_role("button", name="Stop").click()
    await expect(bar).to_be_hidden()
    await phone.wait_stored(None)
    assert phone.deletes == 1
    await expect(page.get_by_role("radio", name=re.compile("^Off"))).to_be_checked()
    await phone.move(north(START, 400))
    await quiet(phone)
    assert len(phone.puts) == 3
    geo = await phone.geo()
    assert geo["watch"] == 1 and geo["clear"] >= 1 and geo["current"] == 0
    # Stopped survives a reload too: no location call at all.
    await page.reload()
    await page.get_by_role("button", name="Availability").click()
    await expect(page.get_by_role("radio", name=re.compile("^Off"))).to_be_checked()
    assert await phone.geo() == {"watch": 0, "current": 0, "clear": 0}
    assert phone.errors == []
    assert outside.urls == []


async def test_on_duty_sends_again_after_the_time_rule_when_standing_still(
    world: World, new_context: NewContext
) -> None:
    phone = await open_phone(new_context, world, world.volunteers[1], tuning={"dutySeconds": 2})
    await phone.page.get_by_role("button", name="Availability").click()
    await phone.page.get_by_role("radio", name=re.compile("^On duty")).check()
    await phone.wait_puts(1)
    await asyncio.sleep(1)
    assert len(phone.puts) == 1  # not before the interval
    await phone.wait_puts(2)  # not moved, yet sent again after it
    await phone.wait_puts(3)
    assert {(p["lat"], p["lon"]) for p in phone.puts} == {START}
    await phone.page.locator("#location-bar").get_by_role("button", name="Stop").click()
    await phone.wait_stored(None)
    await asyncio.sleep(2.5)
    assert len(phone.puts) == 3


async def test_a_denied_permission_is_said_plainly(world: World, new_context: NewContext) -> None:
    phone = await open_phone(new_context, world, world.volunteers[2], geolocation=False)
    await phone.page.get_by_role("button", name="Availability").click()
    # Refused at once: the choice goes back to Off (so click, not check).
    await phone.page.get_by_role("radio", name=re.compile("^On duty")).click()
    bar = phone.page.locator("#location-bar")
    await expect(bar).to_contain_text("Location is blocked for this app")
    await expect(phone.page.locator("#sharing-message")).to_contain_text("Allow location")
    await expect(phone.page.get_by_role("radio", name=re.compile("^Off"))).to_be_checked()
    assert phone.puts == []


async def test_responding_returns_to_on_duty_after_arrived(
    world: World, new_context: NewContext
) -> None:
    first, volunteer = await alerted(world, "Back to duty 1")
    phone = await open_phone(new_context, world, volunteer)
    page, bar = phone.page, phone.page.locator("#location-bar")
    await page.get_by_role("button", name="Availability").click()
    await page.get_by_role("radio", name=re.compile("^On duty")).check()
    await phone.wait_puts(1)

    await accept(phone, first["id"])
    await expect(bar).to_contain_text("until you arrive")
    await phone.wait_puts(2)  # responding sends its first fix at once
    await page.get_by_role("button", name="I have arrived").click()
    await expect(bar).to_contain_text("Sharing your location: on duty")
    await phone.wait_puts(3)  # on duty again, from a fresh fix; the point is kept
    assert phone.deletes == 0
    await phone.wait_stored(START)


async def test_stop_while_responding_is_not_undone_by_the_alert_screen(
    world: World, new_context: NewContext
) -> None:
    alert, volunteer = await alerted(world, "Stopped responding")
    phone = await open_phone(new_context, world, volunteer)
    bar = phone.page.locator("#location-bar")
    await accept(phone, alert["id"])
    await expect(bar).to_contain_text("until you arrive")
    await phone.wait_puts(1)
    await bar.get_by_role("button", name="Stop").click()
    await expect(bar).to_be_hidden()
    await phone.wait_stored(None)
    sent = len(phone.puts)
    await quiet(phone, 3)  # the alert screen reads the accepted alert again meanwhile
    await expect(bar).to_be_hidden()
    await expect(phone.page.locator("#alert-status")).to_have_text("Accepted")
    await phone.move(north(START, 100))
    await quiet(phone)
    assert len(phone.puts) == sent
    assert phone.errors == []


async def test_responding_reads_the_alert_once_while_its_screen_is_open(
    world: World, new_context: NewContext
) -> None:
    """The alert screen reads the alert every 2 s and hands it to the sharing: responding's
    own check (here every 3 s) asks again only when the screen is not doing it."""
    alert, volunteer = await alerted(world, "Responding reads once")
    phone = await open_phone(new_context, world, volunteer, tuning={"checkSeconds": 3})
    await accept(phone, alert["id"])
    await expect(phone.page.locator("#location-bar")).to_contain_text("until you arrive")
    await phone.wait_puts(1)
    reads: list[str] = []
    path = f"/alerts/{alert['id']}"
    phone.page.on(
        "request",
        lambda r: reads.append(r.url) if r.method == "GET" and r.url.endswith(path) else None,
    )
    await asyncio.sleep(6.5)
    # The screen's own pace: one read every 2 s (3 or 4 in the window); both loops together
    # made 5 or 6.
    assert 2 <= len(reads) <= 4, reads
    await expect(phone.page.locator("#location-bar")).to_contain_text("until you arrive")
    assert phone.errors == []
