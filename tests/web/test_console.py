"""The operator console in one session: the live view follows whichever incident is open
(issue 12 #2), and the report form never reuses the previous report's location (#3)."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import Page, Request, Route, expect

from tests.web.conftest import (
    CENTRE,
    CONSOLE,
    NewContext,
    Outside,
    World,
    show_coordinates,
    sign_in_console,
)

# Two spots a few hundred metres apart, both on walkable streets of the test extract.
FIRST = CENTRE
SECOND = (CENTRE[0] + 0.0015, CENTRE[1] + 0.001)


async def _report(page: Page, spot: tuple[float, float], address: str) -> int:
    """Reports through the form with typed coordinates; the incident's id."""
    await show_coordinates(page)
    await page.get_by_label("Latitude").fill(f"{spot[0]:.6f}")
    await page.get_by_label("Longitude").fill(f"{spot[1]:.6f}")
    await page.get_by_label("Address", exact=True).fill(address)
    await page.get_by_role("button", name="Report incident and alert").click()
    await expect(page.locator("#inc-message")).to_contain_text("reported")
    message = await page.locator("#inc-message").inner_text()
    incident_id = int(re.findall(r"#(\d+)", message)[0])
    await expect(page.locator("#incident-title")).to_have_text(re.compile(rf"^#{incident_id} "))
    return incident_id


async def _answer(world: World, alert: dict[str, Any], action: str) -> None:
    volunteer = world.volunteer(alert["responder_id"])
    response = await world.http.post(f"/alerts/{alert['id']}/{action}", headers=volunteer.headers)
    assert response.status_code == 200, response.text


def _row(page: Page, alert: dict[str, Any]) -> Any:
    return page.locator(f"#alerts-table tr[data-alert='{alert['id']}']")


async def test_live_view_follows_every_incident_opened(
    world: World, new_context: NewContext, outside: Outside
) -> None:
    page = await (await new_context(viewport=CONSOLE)).new_page()
    await sign_in_console(page, world.operator)
    badge = page.locator("#stream-status")

    first_id = await _report(page, FIRST, "Kaivokatu 1")
    await expect(badge).to_have_text("● live")
    first = [a for a in (await world.incident(first_id))["alerts"] if a["status"] != "failed"]
    assert len(first) >= 4, first
    # All but one decline, while the incident is on screen: the console shows it, and they
    # are free for the second incident.
    keep, decliners = first[0], first[1:]
    for alert in decliners:
        await _answer(world, alert, "decline")
    for alert in decliners:
        await expect(_row(page, alert)).to_contain_text("Declined")

    # A second incident in the same session gets a stream of its own.
    second_id = await _report(page, SECOND, "Kaivokatu 2")
    await expect(badge).to_have_text("● live")
    second = [a for a in (await world.incident(second_id))["alerts"] if a["status"] != "failed"]
    assert len(second) >= 2, second
    await _answer(world, second[0], "accept")
    await expect(_row(page, second[0])).to_contain_text("Accepted")
    await expect(page.locator("#timeline li[data-kind='alert_accepted']")).to_have_count(1)

    # Back to the first from the list: it follows again, from where it is now.
    await page.locator(f"#open-list button[data-incident='{first_id}']").click()
    await expect(page.locator("#incident-title")).to_have_text(re.compile(rf"^#{first_id} "))
    await expect(badge).to_have_text("● live")
    await _answer(world, keep, "accept")
    await expect(_row(page, keep)).to_contain_text("Accepted")
    await expect(page.locator("#timeline li[data-kind='alert_accepted']")).to_have_count(1)

    # A stream that cannot connect is not "live": reconnecting, then offline.
    async def refuse(route: Route) -> None:
        await route.abort("connectionrefused")

    await page.route("**/incidents/*/events", refuse)
    await page.locator(f"#open-list button[data-incident='{second_id}']").click()
    await expect(page.locator("#incident-title")).to_have_text(re.compile(rf"^#{second_id} "))
    await expect(badge).to_contain_text("reconnecting")
    await expect(badge).to_contain_text("offline", timeout=15_000)
    # What happens meanwhile is shown once the stream is back (resumed after the last
    # event on screen).
    await _answer(world, second[1], "decline")
    await page.unroute("**/incidents/*/events", refuse)
    await expect(badge).to_have_text("● live", timeout=15_000)
    await expect(_row(page, second[1])).to_contain_text("Declined")
    kinds = await page.locator("#timeline li[data-event]").evaluate_all(
        "els => els.map(e => e.dataset.event)"
    )
    assert len(kinds) == len(set(kinds)), "an event shown twice"
    assert outside.urls == []


async def test_report_form_starts_empty_and_needs_a_location(
    world: World, new_context: NewContext, outside: Outside
) -> None:
    page = await (await new_context(viewport=CONSOLE)).new_page()
    await sign_in_console(page, world.operator)
    posted: list[str] = []

    def note(request: Request) -> None:
        if request.method == "POST" and request.url.endswith("/incidents"):
            posted.append(request.url)

    page.on("request", note)
    await page.locator("#map").click()
    await expect(page.get_by_label("Latitude")).to_have_value(re.compile(r"^60\.17"))
    await expect(page.locator("#map .pin-icon.draft")).to_have_count(1)
    await page.get_by_label("What happened").select_option("bleeding")
    await page.get_by_label("Address", exact=True).fill("Rautatientori 1")
    await page.get_by_label("Notes").fill("fell on the stairs")
    await page.get_by_role("button", name="Report incident and alert").click()
    await expect(page.locator("#inc-message")).to_contain_text("reported")
    assert len(posted) == 1

    # Nothing of that report stays in the form: not the location, not its marker.
    for label in ("Latitude", "Longitude", "Address", "Notes"):
        await expect(page.get_by_label(label, exact=True)).to_have_value("")
    await expect(page.get_by_label("What happened")).to_have_value("cardiac_arrest")
    await expect(page.locator("#map .pin-icon.draft")).to_have_count(0)

    # The next caller's address alone: nothing is sent; the form asks for the location.
    await page.get_by_label("Address", exact=True).fill("Mannerheimintie 5")
    await page.get_by_role("button", name="Report incident and alert").click()
    await expect(page.locator("#inc-where")).to_contain_text("location is needed")
    await expect(page.locator("#inc-message")).to_have_text("")
    # The address comes first now (issue 14): the focus goes to the address box.
    await expect(page.get_by_label("Address or place")).to_be_focused()
    await page.wait_for_timeout(300)
    assert len(posted) == 1
    listed = await world.http.get("/incidents?status=all", headers=world.operator_headers)
    assert len(listed.json()) == 1

    # Once the location is set for this report, it goes out.
    await show_coordinates(page)
    await page.get_by_label("Latitude").fill(f"{SECOND[0]:.6f}")
    await page.get_by_label("Longitude").fill(f"{SECOND[1]:.6f}")
    await expect(page.locator("#inc-where")).to_have_text("")
    await page.get_by_role("button", name="Report incident and alert").click()
    await expect(page.locator("#inc-message")).to_contain_text("reported")
    assert len(posted) == 2
    assert outside.urls == []
