"""The console's incident actions (issue 14, item 4): closing and cancelling ask for a reason
in a modal dialog and send nothing without Confirm; the timeline and the history show the
reason; an open incident can be corrected (address, pin)."""

from __future__ import annotations

from playwright.async_api import Page, Request, expect

from tests.web.conftest import (
    CENTRE,
    CONSOLE,
    PHONE,
    NewContext,
    Outside,
    World,
    screenshot,
    sign_in_console,
    sign_in_volunteer,
)


async def _console_on(world: World, new_context: NewContext, incident_id: int) -> Page:
    page = await (await new_context(viewport=CONSOLE)).new_page()
    await sign_in_console(page, world.operator)
    await page.locator(f"#open-list button[data-incident='{incident_id}']").click()
    await expect(page.locator("#incident-title")).to_contain_text(f"#{incident_id} ")
    return page


def _endings(page: Page) -> list[str]:
    """The close and cancel requests the page sends, as they go."""
    sent: list[str] = []

    def note(request: Request) -> None:
        if request.method == "POST" and request.url.endswith(("/close", "/cancel")):
            sent.append(request.url)

    page.on("request", note)
    return sent


async def test_close_asks_for_a_reason_and_back_or_escape_send_nothing(
    world: World, new_context: NewContext, outside: Outside
) -> None:
    incident = await world.dispatch("Kaivokatu 1")
    page = await _console_on(world, new_context, incident["id"])
    sent = _endings(page)
    dialog = page.get_by_role("dialog", name=f"Close incident #{incident['id']}?")

    await page.get_by_role("button", name="Close incident").click()
    await expect(dialog).to_be_visible()
    # The reasons are radio buttons; the first has the focus (the native modal keeps it in).
    await expect(dialog.get_by_role("radio", name="The patient is fine")).to_be_visible()
    await expect(dialog.get_by_role("radio").first).to_be_focused()
    await screenshot(page, "console-close-dialog")
    await dialog.get_by_role("button", name="Back", exact=True).click()
    await expect(dialog).to_be_hidden()
    await expect(page.get_by_role("button", name="Close incident")).to_be_focused()

    await page.get_by_role("button", name="Close incident").click()
    await expect(dialog).to_be_visible()
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()

    # Confirm without a reason, or "other" without a note, is refused in the dialog.
    await page.get_by_role("button", name="Close incident").click()
    await dialog.get_by_role("button", name="Confirm", exact=True).click()
    await expect(dialog.get_by_role("alert")).to_have_text("Choose a reason.")
    await dialog.get_by_role("radio", name="Other").check()
    await dialog.get_by_role("button", name="Confirm", exact=True).click()
    await expect(dialog.get_by_role("alert")).to_contain_text("needs a note")
    await expect(dialog.get_by_label("Note")).to_be_focused()
    assert sent == [], "nothing is sent before Confirm"
    assert (await world.incident(incident["id"]))["status"] == "active"

    await dialog.get_by_role("radio", name="The patient is fine").check()
    await dialog.get_by_role("button", name="Confirm", exact=True).click()
    await expect(page.locator("#incident-status")).to_have_text("Closed")
    assert len(sent) == 1
    closed = await world.incident(incident["id"])
    assert (closed["status"], closed["end_reason"]) == ("closed", "patient_fine")
    await expect(page.locator("#timeline li[data-kind='closed'] span")).to_have_text(
        "Incident closed: The patient is fine"
    )
    await expect(page.locator("#incident-facts")).to_contain_text("The patient is fine")

    # History: today's ended incidents list it with its reason; picked, it is read-only.
    history = page.locator("#history-list")
    entry = history.locator(f"button[data-incident='{incident['id']}']")
    await expect(entry).to_contain_text("The patient is fine")
    await expect(entry).to_contain_text("Kaivokatu 1")
    await page.get_by_label("Status", exact=True).select_option("cancelled")
    await expect(entry).to_have_count(0)
    await page.get_by_label("Status", exact=True).select_option("closed")
    await page.get_by_label("Reported", exact=True).select_option("week")
    await expect(entry).to_be_visible()
    assert outside.urls == []


async def test_cancel_as_a_duplicate_shows_in_the_timeline_and_history_read_only(
    world: World, new_context: NewContext, outside: Outside
) -> None:
    incident = await world.dispatch("Mikonkatu 5")
    other = await world.dispatch("Vilhonkatu 4")
    page = await _console_on(world, new_context, incident["id"])
    await page.get_by_role("button", name="Cancel incident").click()
    dialog = page.get_by_role("dialog", name=f"Cancel incident #{incident['id']}?")
    await dialog.get_by_role("radio", name="Duplicate of another report").check()
    # The note is the operator's own text: markup in it stays characters.
    note = f"<b class='planted'>Same as #{other['id']}</b>"
    await dialog.get_by_label("Note").fill(note)
    await dialog.get_by_role("button", name="Confirm", exact=True).click()
    await expect(page.locator("#incident-status")).to_have_text("Cancelled")
    await expect(page.locator("#timeline li[data-kind='cancelled'] span")).to_have_text(
        f"Incident cancelled: Duplicate of another report ({note})"
    )
    await expect(page.locator("#incident-facts")).to_contain_text(note)
    assert await page.locator(".planted").count() == 0
    cancelled = await world.incident(incident["id"])
    assert (cancelled["end_reason"], cancelled["end_note"]) == (
        "duplicate",
        note,
    )
    assert {a["stand_down_reason"] for a in cancelled["alerts"] if a["status"] != "failed"} == {
        "cancelled"
    }

    # Another incident on screen, then the cancelled one picked from the history.
    await page.locator(f"#open-list button[data-incident='{other['id']}']").click()
    await expect(page.locator("#incident-title")).to_contain_text(f"#{other['id']} ")
    await page.locator(f"#history-list button[data-incident='{incident['id']}']").click()
    await expect(page.locator("#incident-title")).to_contain_text(f"#{incident['id']} ")
    await expect(page.locator("#incident-status")).to_have_text("Cancelled")
    for action in ("Close incident", "Cancel incident", "Edit"):
        await expect(page.get_by_role("button", name=action, exact=True)).to_be_hidden()
    await expect(page.locator("#stream-status")).to_have_text("ended: read-only")
    await expect(page.locator("#timeline li[data-kind='cancelled']")).to_be_visible()
    assert outside.urls == []


async def test_edit_corrects_the_address_and_moves_the_pin(
    world: World, new_context: NewContext, outside: Outside
) -> None:
    incident = await world.dispatch("Testikatu 1")
    page = await _console_on(world, new_context, incident["id"])
    await page.get_by_role("button", name="Edit", exact=True).click()
    address = page.get_by_label("Corrected address")
    await expect(address).to_have_value("Testikatu 1")
    await address.fill("Unioninkatu 20")
    await page.get_by_label("Corrected notes").fill("Second floor, door code 1234")
    await page.get_by_role("button", name="Move pin on map").click()
    # A click a little south of the incident's pin, on the map.
    pin = page.locator(f".leaflet-marker-icon[title='Incident #{incident['id']}']")
    box = await pin.bounding_box()
    assert box is not None
    await page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2 + 40)
    await expect(page.locator("#edit-where")).to_contain_text("New pin")
    await screenshot(page, "console-edit")
    await page.get_by_role("button", name="Save", exact=True).click()
    await expect(page.locator("#act-message")).to_contain_text("Saved")
    await expect(page.locator("#edit-form")).to_have_count(0)
    await expect(page.locator("#incident-facts")).to_contain_text("Unioninkatu 20")
    corrected = page.locator("#timeline li[data-kind='corrected']")
    await expect(corrected).to_contain_text("address “Testikatu 1” → “Unioninkatu 20”")
    await expect(corrected).to_contain_text("pin moved")
    after = await world.incident(incident["id"])
    assert after["address"] == "Unioninkatu 20"
    assert after["notes"] == "Second floor, door code 1234"
    lon, lat = after["location"]["coordinates"]
    assert lat < CENTRE[0] and abs(lon - CENTRE[1]) < 0.001, "moved south of the old pin"
    assert outside.urls == []


async def test_the_volunteer_sees_a_corrected_address_then_why_they_stood_down(
    world: World, new_context: NewContext, outside: Outside
) -> None:
    incident = await world.dispatch("Testikatu 1")
    alert = next(a for a in incident["alerts"] if a["push_error"] is None)
    volunteer = world.volunteer(alert["responder_id"])
    accepted = await world.http.post(f"/alerts/{alert['id']}/accept", headers=volunteer.headers)
    assert accepted.status_code == 200, accepted.text
    phone = await (await new_context(viewport=PHONE)).new_page()
    await sign_in_volunteer(phone, volunteer.token, alert["id"])
    await expect(phone.locator("#alert-where")).to_have_text("Where: Testikatu 1")

    corrected = await world.http.patch(
        f"/incidents/{incident['id']}",
        headers=world.operator_headers,
        json={"address": "Unioninkatu 20"},
    )
    assert corrected.status_code == 200, corrected.text
    # The app reads its alert again (it polls; the update push makes a closed app do so).
    await expect(phone.locator("#alert-where")).to_have_text("Where: Unioninkatu 20")

    cancelled = await world.http.post(
        f"/incidents/{incident['id']}/cancel",
        headers=world.operator_headers,
        json={"reason": "ems_on_scene"},
    )
    assert cancelled.status_code == 200, cancelled.text
    await expect(phone.locator("#stand-down")).to_have_text(
        "Stood down: the ambulance is on scene — the incident was cancelled. You are not needed."
    )
    await screenshot(phone, "volunteer-stand-down-reason")
    assert outside.urls == []
