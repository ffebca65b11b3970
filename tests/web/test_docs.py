"""The API documentation page renders in the browser from this origin alone."""

from __future__ import annotations

from playwright.async_api import expect

from tests.web.conftest import NewContext, Outside, screenshot


async def test_swagger_renders_offline(new_context: NewContext, outside: Outside) -> None:
    page = await (await new_context(viewport={"width": 1440, "height": 900})).new_page()
    await page.goto("/docs")
    await expect(page.locator(".swagger-ui .title")).to_contain_text("EHBO responders")
    await expect(page.get_by_text("/incidents/{incident_id}/confirm")).to_be_visible()
    await screenshot(page, "api-docs")
    await page.wait_for_load_state("networkidle")
    assert outside.urls == []
    # ReDoc is switched off: its bundle loads a logo from elsewhere.
    redoc = await page.goto("/redoc")
    assert redoc is not None and redoc.status == 404
