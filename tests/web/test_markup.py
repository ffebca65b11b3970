"""Text from users is text on every screen (issue 12 #11): markup planted through the API in
every user-written field (volunteer names, incident addresses and notes, AED addresses and
descriptions, citizen notes, place labels) shows as its characters and never becomes
elements, on the console (map tooltips included, by hovering the markers), the volunteer
app, the citizen page and the demo phone; no page navigates away."""

from __future__ import annotations

import json
import re
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Frame, Page, expect

from tests.web.conftest import (
    CENTRE,
    CONSOLE,
    PHONE,
    NewContext,
    Outside,
    Volunteer,
    World,
    add_volunteer,
    sign_in_console,
    sign_in_volunteer,
)


def planted(field: str) -> str:
    """Markup that would show itself if inserted as HTML: an element with a known id, an
    image whose error handler would run (were scripts allowed), and a refresh that would
    take the page away (which a Content-Security-Policy does not stop)."""
    return (
        f'<b id="planted-{field}" class="planted">{field}</b>'
        f'<img class="planted" src="x" onerror="document.title=\'pwned\'">'
        f'<meta class="planted" http-equiv="refresh" content="0;url=/report#{field}">'
    )


# The fields, by where they come from.
NAME, PLACE = planted("name"), planted("place")
ADDRESS, NOTES = planted("address"), planted("notes")
AED_ADDRESS, AED_DESCRIPTION = planted("aed-address"), planted("aed-description")
CITIZEN_NOTES = planted("citizen-notes")

_ELEMENTS = """() => document.querySelectorAll(
    '.planted, [id^="planted-"], img[src="x"], meta[http-equiv]').length"""


async def _assert_inert(target: Page | Frame, url: str) -> None:
    """No planted element on the screen, and the screen is the one that was opened."""
    assert await target.evaluate(_ELEMENTS) == 0, f"markup became elements on {url}"
    assert await target.evaluate("window.__stayed === true"), f"{url} navigated away"
    assert await target.evaluate("document.title") != "pwned"


async def _stay(target: Page | Frame) -> None:
    await target.evaluate("window.__stayed = true")


async def _plant(world: World) -> tuple[Volunteer, dict[str, Any], dict[str, Any], int]:
    """A volunteer, their place, an AED, an incident and a citizen report, all with markup."""
    http = world.http
    volunteer = await add_volunteer(http, CENTRE[0] - 0.0006, CENTRE[1] + 0.0022, NAME)
    places = await http.put(
        "/responders/me/availability",
        headers=volunteer.headers,
        json={
            "places": [
                {
                    "kind": "home",
                    "label": PLACE,
                    "location": {"lat": CENTRE[0] + 0.002, "lon": CENTRE[1] - 0.002},
                    "windows": [
                        {
                            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                            "start": "00:00",
                            "end": "23:59",
                        }
                    ],
                }
            ]
        },
    )
    assert places.status_code == 200, places.text
    aed = await http.post(
        "/aeds",
        headers={"Authorization": f"Bearer {world.coordinator}"},
        json={
            "location": {"lat": CENTRE[0] + 0.0005, "lon": CENTRE[1] + 0.0009},
            "address": AED_ADDRESS,
            "description": AED_DESCRIPTION,
            "access": "public",
            "cabinet_code": "4321",
        },
    )
    assert aed.status_code == 201, aed.text
    incident = await http.post(
        "/incidents",
        headers=world.operator_headers,
        json={
            "kind": "cardiac_arrest",
            "location": {"lat": CENTRE[0], "lon": CENTRE[1]},
            "address": ADDRESS,
            "notes": NOTES,
        },
    )
    assert incident.status_code == 201, incident.text
    report = await http.post(
        "/reports",
        json={
            "kind": "unconscious",
            "location": {"lat": CENTRE[0] - 0.0015, "lon": CENTRE[1] - 0.001},
            "notes": CITIZEN_NOTES,
            "callback_phone": "+358 40 765 4321",
        },
    )
    assert report.status_code in (200, 201, 202), report.text
    # The demo phone lists the demo volunteers of the credentials file.
    credentials = json.loads(world.credentials.read_text())
    credentials["volunteers"][str(volunteer.id)] = {"name": NAME, "token": volunteer.token}
    world.credentials.write_text(json.dumps(credentials))
    return volunteer, aed.json(), incident.json(), int(report.json()["id"])


async def _tooltips(page: Page) -> list[str]:
    """Hovers every marker of the console's map; the text of each tooltip that opened."""
    texts = []
    markers = page.locator("#map .leaflet-marker-icon, #map path.leaflet-interactive")
    for index in range(await markers.count()):
        try:
            # The list poll redraws the other incidents' markers every few seconds: one
            # gone between count and hover is skipped (the assertions name what must show).
            await markers.nth(index).hover(force=True, timeout=2000)
        except PlaywrightError:
            continue
        tooltip = page.locator("#map .leaflet-tooltip")
        if await tooltip.count():
            texts.append(await tooltip.last.inner_text())
        await _assert_inert(page, "/console (map tooltip)")
        await page.mouse.move(1, 1)
    return texts


async def test_user_text_never_becomes_markup(
    world: World, new_context: NewContext, outside: Outside
) -> None:
    volunteer, aed, incident, report_id = await _plant(world)
    alerts = incident["alerts"]
    assert any(a["responder_id"] == volunteer.id for a in alerts)
    fetcher = next(a for a in alerts if a["aed_id"] == aed["id"] and a["role"] == "via_aed")

    # The console: lists, the incident, its volunteers, AEDs and map tooltips.
    console = await (await new_context(viewport=CONSOLE)).new_page()
    await sign_in_console(console, world.operator)
    await _stay(console)
    await expect(console.locator("#open-list")).to_contain_text(ADDRESS)
    await console.locator(f"#open-list button[data-incident='{report_id}']").click()
    await expect(console.locator("#incident-facts")).to_contain_text(CITIZEN_NOTES)
    await _assert_inert(console, "/console (citizen report)")
    await console.locator(f"#open-list button[data-incident='{incident['id']}']").click()
    await expect(console.locator("#incident-facts")).to_contain_text(ADDRESS)
    await expect(console.locator("#incident-facts")).to_contain_text(NOTES)
    await expect(console.locator("#alerts-table")).to_contain_text(NAME)
    await expect(console.locator("#aed-list")).to_contain_text(AED_ADDRESS)
    await expect(console.locator("#aed-list")).to_contain_text(AED_DESCRIPTION)
    # Settled first (pushes sent, routes drawn), so no redraw closes a tooltip under the mouse.
    await expect(console.locator("#map path.volunteer")).to_have_count(len(alerts))
    await expect(console.locator("#map path.route")).to_have_count(len(alerts), timeout=10_000)
    await expect(console.locator("#timeline li[data-kind^='push_']")).to_have_count(len(alerts))
    await _assert_inert(console, "/console")
    # A hover can miss under load (the poll redraws markers): a few rounds, then it must hold.
    for _ in range(3):
        tooltips = "\n".join(await _tooltips(console))
        if NAME in tooltips and AED_ADDRESS in tooltips:
            break
    assert NAME in tooltips and AED_ADDRESS in tooltips, tooltips
    await _assert_inert(console, "/console")

    # The planted volunteer's app: the alert list, the alert, their availability and places.
    phone = await (await new_context(viewport=PHONE, is_mobile=True, has_touch=True)).new_page()
    await sign_in_volunteer(phone, volunteer.token)
    await _stay(phone)
    await expect(phone.locator("#alert-list")).to_contain_text(ADDRESS)
    await _assert_inert(phone, "/app#/alerts")
    mine = next(a for a in alerts if a["responder_id"] == volunteer.id)
    await phone.locator("#alert-list button").first.click()
    await expect(phone).to_have_url(re.compile(rf"#/alerts/{mine['id']}$"))
    await _stay(phone)
    await expect(phone.locator("#alert-where")).to_contain_text(ADDRESS)
    await expect(phone.locator("#alert-notes")).to_contain_text(NOTES)
    await _assert_inert(phone, "/app#/alerts/<id>")
    await phone.get_by_role("button", name="Availability").click()
    await expect(phone.locator("#me-status")).to_contain_text(NAME)
    await expect(phone.locator("#place-home-label")).to_have_value(PLACE)
    await _assert_inert(phone, "/app#/availability")

    # The AED's fetcher sees its address and description.
    aed_phone = await (await new_context(viewport=PHONE, is_mobile=True, has_touch=True)).new_page()
    await sign_in_volunteer(aed_phone, _owner(world, volunteer, fetcher).token)
    await aed_phone.goto(f"/app#/alerts/{fetcher['id']}")
    await _stay(aed_phone)
    await expect(aed_phone.locator("#role-box")).to_contain_text(AED_ADDRESS)
    await expect(aed_phone.locator("#role-box")).to_contain_text(AED_DESCRIPTION)
    await _assert_inert(aed_phone, "/app#/alerts/<id> (via AED)")

    # The citizen page, sending a report with markup in its notes.
    citizen = await (await new_context(viewport=PHONE, is_mobile=True, has_touch=True)).new_page()
    await citizen.goto("/report")
    await citizen.locator("#report-map[data-ready='true']").wait_for()
    await _stay(citizen)
    # Beside the planted AED, which the status view then shows as the nearest.
    await citizen.get_by_label("Latitude").fill(f"{CENTRE[0] + 0.0006:.6f}")
    await citizen.get_by_label("Longitude").fill(f"{CENTRE[1] + 0.0009:.6f}")
    await citizen.get_by_label("Collapsed, not breathing normally").check()
    await citizen.get_by_label("Anything else (optional)").fill(CITIZEN_NOTES)
    await citizen.get_by_role("button", name="Send report").click()
    await expect(citizen.get_by_role("heading", name="Report received")).to_be_visible()
    await _assert_inert(citizen, "/report")
    await expect(citizen.locator("#aed-address")).to_have_text(AED_ADDRESS, timeout=15_000)
    await expect(citizen.locator("#aed-description")).to_have_text(AED_DESCRIPTION)
    await _assert_inert(citizen, "/report/status (nearest AED)")

    # The demo phone: names in the picker and the pushed list, the app in its frame.
    demo = await (await new_context(viewport=CONSOLE)).new_page()
    await demo.goto("/demo/phone")
    await _stay(demo)
    await expect(demo.get_by_label("All demo volunteers")).to_contain_text(NAME)
    pushed = demo.locator(f"#pushed button[data-volunteer='{volunteer.id}']")
    await expect(pushed).to_contain_text(NAME)
    await pushed.click()
    await expect(demo.locator("#who")).to_contain_text(NAME)
    screen = demo.frame_locator("#screen")
    await expect(screen.locator("#alert-list")).to_contain_text(ADDRESS)
    await _assert_inert(demo, "/demo/phone")
    frame = await (await demo.locator("#screen").element_handle()).content_frame()
    assert frame is not None and "/app" in frame.url
    await _stay(frame)
    await _assert_inert(frame, "/demo/phone (app frame)")
    assert outside.urls == []


def _owner(world: World, planted_one: Volunteer, alert: dict[str, Any]) -> Volunteer:
    """The volunteer of an alert: one of the world's, or the planted one."""
    if alert["responder_id"] == planted_one.id:
        return planted_one
    return world.volunteer(alert["responder_id"])
