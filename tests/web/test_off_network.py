"""The console and places off the walking network or in a suspected flood (issue 12 #13,
#19): it asks before dispatching onto the water, and flags a flood in the triage list."""

from __future__ import annotations

import re

from playwright.async_api import Dialog, expect

from responders.db.gateway import Database
from responders.floods import FloodArea, flag_flood
from tests.web.conftest import CONSOLE, NewContext, World, show_coordinates, sign_in_console

OFF_SHORE = (60.16, 24.96)  # 610 m out from the quay: ice, a boat


async def test_console_confirms_an_incident_off_the_network(
    world: World, new_context: NewContext
) -> None:
    console = await (await new_context(viewport=CONSOLE)).new_page()
    await sign_in_console(console, world.operator)
    asked: list[str] = []

    async def confirm(dialog: Dialog) -> None:
        asked.append(dialog.message)
        await dialog.accept()

    console.on("dialog", confirm)
    await show_coordinates(console)
    await console.get_by_label("Latitude").fill(str(OFF_SHORE[0]))
    await console.get_by_label("Longitude").fill(str(OFF_SHORE[1]))
    await console.get_by_role("button", name="Report incident and alert").click()
    await expect(console.locator("#incident-title")).to_have_text(re.compile(r"#\d+ "))
    assert len(asked) == 1
    assert "from the nearest walkable street" in asked[0]
    assert "anyway?" in asked[0]
    incident_id = int((await console.locator("#incident-title").inner_text()).split()[0][1:])
    detail = await world.incident(incident_id)
    assert detail["status"] == "active"
    assert detail["location"]["coordinates"] == [OFF_SHORE[1], OFF_SHORE[0]]


async def test_console_declined_confirmation_sends_nothing(
    world: World, new_context: NewContext
) -> None:
    console = await (await new_context(viewport=CONSOLE)).new_page()
    await sign_in_console(console, world.operator)
    console.on("dialog", lambda dialog: dialog.dismiss())
    await show_coordinates(console)
    await console.get_by_label("Latitude").fill(str(OFF_SHORE[0]))
    await console.get_by_label("Longitude").fill(str(OFF_SHORE[1]))
    await console.get_by_role("button", name="Report incident and alert").click()
    await expect(console.locator("#inc-message")).to_contain_text("confirm_off_network")
    listed = await world.http.get("/incidents?status=all", headers=world.operator_headers)
    assert listed.json() == []


async def test_triage_list_flags_a_suspected_flood(
    world: World, new_context: NewContext, db: Database
) -> None:
    reported = await world.http.post(
        "/reports", json={"kind": "unconscious", "location": {"lat": 60.1716, "lon": 24.9443}}
    )
    assert reported.status_code == 201, reported.text
    # The per-area flood flag is off with the limits in these tests: flag it as a flood would.
    async with db.transaction() as conn:
        await flag_flood(conn, reported.json()["id"], FloodArea.of(60.1716, 24.9443, 0.01))
    console = await (await new_context(viewport=CONSOLE)).new_page()
    await sign_in_console(console, world.operator)
    item = console.locator("#triage-list li").filter(has_text=f"#{reported.json()['id']}")
    await expect(item).to_contain_text("Suspected flood · area 60.1700,24.9400")
