"""The volunteer app as an installable phone app (issue 15, items 1 to 3): the manifest and
its icons, the service worker (the shell and the last alert offline), a Web Push message
shown as a notification that opens the alert, new alerts shown live on every view, and the
card that says whether this phone rings while the app is closed, and why not."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import struct
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import BrowserContext, Page, Route, Worker, expect

from responders.web import pwa
from tests.web.conftest import LiveServer, NewContext, Outside, World, screenshot, sign_in_volunteer

PHONE = {"width": 390, "height": 844}
# A valid P-256 public key (uncompressed point, base64url), standing in for the service's
# VAPID key where a test needs /push/key to answer one.
PUBLIC_KEY = (
    "BCysd9SMRIilNdBxZiKpZT16kKp68Qddfwb_EnIGSniuQLFHB4BA6mMdVVN5Kvw9SKeXb1JLC8pJxBADCM6qTTc"
)


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def eventually(check: Callable[[], Awaitable[Any]], within: float = 10) -> Any:
    """The first truthy answer of `check`, polled every 0.1 s."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        answer = await check()
        if answer:
            return answer
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def controlled(page: Page) -> None:
    """Waits until the service worker controls the page (it claims the page on activation)."""
    await eventually(lambda: page.evaluate("navigator.serviceWorker.controller !== null"))


async def worker_of(context: BrowserContext) -> Worker:
    if not context.service_workers:
        await context.wait_for_event("serviceworker")
    return context.service_workers[0]


async def direct_alert(world: World, address: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """An incident at the centre, and one of its alerts."""
    incident = await world.dispatch(address)
    alert = next(a for a in incident["alerts"] if a["role"] == "direct")
    return incident, alert


# ---------- the manifest and the worker's file ----------


async def test_manifest_is_linked_and_valid(world: World) -> None:
    http = world.http
    page = (await http.get("/app")).text
    assert '<link rel="manifest" href="/app/manifest.webmanifest">' in page
    assert '<meta name="apple-mobile-web-app-capable" content="yes">' in page
    assert '<link rel="apple-touch-icon" href="/static/icons/apple-touch-icon.png">' in page
    response = await http.get("/app/manifest.webmanifest")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/manifest+json"
    manifest = response.json()
    assert manifest["name"] == "EHBO volunteer" and manifest["short_name"]
    assert manifest["description"]
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "/app",
        "/app",
        "standalone",
    )
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["background_color"])
    purposes: set[tuple[str, str]] = set()
    for icon in manifest["icons"]:
        served = await http.get(icon["src"])
        assert served.status_code == 200, icon["src"]
        assert served.headers["content-type"].startswith(icon["type"])
        if icon["type"] == "image/png":
            width, height = png_size(served.content)
            assert icon["sizes"] == f"{width}x{height}"
        else:
            assert icon["type"] == "image/svg+xml" and served.text.startswith("<svg")
        purposes.add((icon["sizes"], icon["purpose"]))
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= purposes
    touch = await http.get("/static/icons/apple-touch-icon.png")
    assert png_size(touch.content) == (180, 180)


async def test_worker_is_served_with_this_deploys_shell(world: World) -> None:
    http = world.http
    response = await http.get("/app/sw.js")
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert response.headers["service-worker-allowed"] == "/app"
    assert response.headers["cache-control"] == "no-cache"
    source = response.text
    assert "__EHBO_" not in source
    version = re.search(r'const VERSION = "([0-9a-f]{16})";', source)
    shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", source).group(1))  # type: ignore[union-attr]
    assert version is not None
    # The page, every module app.js imports (found by following the imports), the styles,
    # Leaflet and the icons; each one is served.
    for url in (
        "/app",
        "/app/manifest.webmanifest",
        "/static/js/app.js",
        "/static/js/pwa.js",
        "/static/js/common.js",
        "/static/js/states.js",
        "/static/js/map.js",
        "/static/js/tiles.js",
        "/static/css/style.css",
        "/static/vendor/leaflet-1.9.4/leaflet.js",
        "/static/icons/icon-192.png",
    ):
        assert url in shell, url
    for url in shell:
        assert (await http.get(url)).status_code == 200, url
    csp = (await http.get("/app")).headers["content-security-policy"]
    assert "worker-src 'self'" in csp and "manifest-src 'self'" in csp


def test_shell_version_follows_the_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new module that app.js imports joins the shell, and changes its version (so the
    browser installs the new worker); a file the app does not use changes nothing."""
    static, templates = tmp_path / "static", tmp_path / "templates"
    shutil.copytree(pwa._STATIC, static)
    shutil.copytree(pwa._TEMPLATES, templates)
    monkeypatch.setattr(pwa, "_STATIC", static)
    monkeypatch.setattr(pwa, "_TEMPLATES", templates)
    urls, before = pwa._shell.__wrapped__()
    (static / "js" / "extra.js").write_text("export const EXTRA = 1;\n")
    app = static / "js" / "app.js"
    app.write_text('import "./extra.js";\n' + app.read_text())
    grown, after = pwa._shell.__wrapped__()
    assert "/static/js/extra.js" not in urls and "/static/js/extra.js" in grown
    assert after != before
    (static / "js" / "console.js").write_text("// the console is not part of the app\n")
    assert pwa._shell.__wrapped__() == (grown, after)
    (templates / "app.html").write_text((templates / "app.html").read_text() + "\n")
    assert pwa._shell.__wrapped__()[1] != after


# ---------- the shell and the last alert, offline ----------


async def test_worker_serves_the_shell_and_the_last_alert_offline(
    world: World, new_context: NewContext
) -> None:
    incident, alert = await direct_alert(world, "Offline-katu 1")
    volunteer = world.volunteer(alert["responder_id"])
    context = await new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = await context.new_page()
    await sign_in_volunteer(page, volunteer.token)
    await controlled(page)
    await page.goto(f"/app#/alerts/{alert['id']}")
    await expect(page.locator("#alert-title")).to_have_text("Cardiac arrest")
    # The worker keeps the answer the alert screen polls for (every 2 s).
    await eventually(
        lambda: page.evaluate(
            """(id) => caches.open("ehbo-last-alert").then((c) => c.match("/app/last-alert"))
                .then((r) => r ? r.json() : null).then((kept) => kept && kept.alert.id === id)""",
            alert["id"],
        )
    )

    await context.set_offline(True)
    await page.evaluate("location.hash = '#/alerts'; window.__before = true")
    await page.reload()
    assert await page.evaluate("window.__before") is None  # a new page, from the worker
    await expect(page.get_by_role("heading", name="Your alerts")).to_be_visible()
    offline = page.locator("#offline-alert")
    await expect(offline).to_contain_text("You are offline: this is the last alert you received")
    await expect(offline).to_contain_text("Cardiac arrest")
    await expect(offline).to_contain_text("Offline-katu 1")
    await expect(page.locator("#reach")).to_contain_text("this phone is offline")
    # The list's own failed fetch says so in words, not the browser's "Failed to fetch".
    await expect(page.locator("#alert-list")).to_contain_text("No connection to the service")
    await screenshot(page, "pwa-offline-last-alert")
    await offline.get_by_role("link", name="Open this alert").click()
    await expect(page.locator("#alert-title")).to_have_text("Cardiac arrest")
    await expect(page.locator("#alert-where")).to_have_text("Where: Offline-katu 1")

    await context.set_offline(False)
    await expect(offline).to_be_hidden()
    # Signing out drops the copy: the next volunteer on this phone never sees it.
    await page.get_by_role("button", name="Sign out").click()
    await eventually(
        lambda: page.evaluate(
            """() => caches.open("ehbo-last-alert").then((c) => c.match("/app/last-alert"))
                .then((r) => r === undefined)"""
        )
    )
    assert incident["status"] == "active"


# ---------- a push: notification, click, accept ----------


async def _registration_id(page: Page, context: BrowserContext, origin: str) -> tuple[Any, str]:
    cdp = await context.new_cdp_session(page)
    registrations: dict[str, str] = {}

    def updated(event: dict[str, Any]) -> None:
        for registration in event["registrations"]:
            registrations[registration["scopeURL"]] = registration["registrationId"]

    cdp.on("ServiceWorker.workerRegistrationUpdated", updated)
    await cdp.send("ServiceWorker.enable")
    await eventually(lambda: asyncio.sleep(0, f"{origin}/app" in registrations))
    return cdp, registrations[f"{origin}/app"]


_NOTIFICATIONS = """() => navigator.serviceWorker.ready
    .then((r) => r.getNotifications())
    .then((all) => all.map((n) => ({title: n.title, body: n.body, tag: n.tag, data: n.data,
        requireInteraction: n.requireInteraction, actions: n.actions.map((a) => a.action)})))"""


async def test_push_shows_a_notification_that_opens_the_alert(
    world: World, new_context: NewContext, live_server: LiveServer
) -> None:
    incident, alert = await direct_alert(world, "Push-katu 2")
    volunteer = world.volunteer(alert["responder_id"])
    context = await new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    await context.grant_permissions(["notifications"], origin=live_server.url)
    page = await context.new_page()
    await sign_in_volunteer(page, volunteer.token)
    await controlled(page)
    await page.goto("/app#/availability")
    await expect(page.get_by_role("heading", name="Availability")).to_be_visible()
    cdp, registration = await _registration_id(page, context, live_server.url)
    url = f"/app#/alerts/{alert['id']}"
    payload = {
        "v": "1",
        "kind": "alert",
        "alert_id": str(alert["id"]),
        "incident_id": str(incident["id"]),
        "role": "direct",
        "title": "Cardiac arrest nearby",
        "body": "Someone needs CPR 150 m from you. Can you go?",
        "url": url,
        "tag": f"incident-{incident['id']}",
    }
    await cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": live_server.url, "registrationId": registration, "data": json.dumps(payload)},
    )
    shown = await eventually(lambda: page.evaluate(_NOTIFICATIONS))
    assert shown == [
        {
            "title": "Cardiac arrest nearby",
            "body": "Someone needs CPR 150 m from you. Can you go?",
            "tag": f"incident-{incident['id']}",
            "data": {"url": url, "alert_id": str(alert["id"]), "kind": "alert"},
            "requireInteraction": True,
            "actions": ["accept", "decline"],
        }
    ]

    # Tapping it (the worker's notificationclick handler) opens the alert in the open app.
    worker = await worker_of(context)
    opened = await worker.evaluate(
        """async () => {
            const [notification] = await self.registration.getNotifications();
            return self.ehboOpenFromNotification(notification);
        }"""
    )
    assert opened == url
    await expect(page).to_have_url(re.compile(rf"/app#/alerts/{alert['id']}$"))
    await expect(page.locator("#alert-title")).to_have_text("Cardiac arrest")
    await expect(page.locator("#alert-where")).to_have_text("Where: Push-katu 2")
    assert await page.evaluate(_NOTIFICATIONS) == []  # a tapped notification goes away

    # A garbled payload still rings, with the generic text; "Accept" on it answers with the
    # token the page handed to the worker at sign-in.
    await page.goto("/app#/availability")
    await cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": live_server.url, "registrationId": registration, "data": "{not json"},
    )
    generic = await eventually(lambda: page.evaluate(_NOTIFICATIONS))
    assert generic[0]["title"] == "Emergency alert: open the app"
    assert generic[0]["data"]["url"] == "/app#/alerts"
    await cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": live_server.url, "registrationId": registration, "data": json.dumps(payload)},
    )
    await eventually(lambda: page.evaluate(f"({_NOTIFICATIONS})().then((all) => all.length === 2)"))
    await worker.evaluate(
        """async () => {
            const all = await self.registration.getNotifications();
            const alert = all.find((n) => n.data.alert_id);
            return self.ehboOpenFromNotification(alert, "accept");
        }"""
    )
    await expect(page.locator("#alert-status")).to_have_text("Accepted")
    detail = await world.incident(incident["id"])
    assert {a["id"]: a["status"] for a in detail["alerts"]}[alert["id"]] == "accepted"


# ---------- live while open ----------


async def test_new_alert_shows_on_any_view_without_reload(
    world: World, new_context: NewContext
) -> None:
    volunteer = world.volunteers[0]  # Aino, 140 m from the centre: alerted for a cardiac arrest
    context = await new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = await context.new_page()
    await sign_in_volunteer(page, volunteer.token)
    await page.get_by_role("button", name="Availability").click()
    await expect(page.locator("#me-status")).to_contain_text("active")
    await page.evaluate("window.__sameDocument = true")
    incident = await world.dispatch("Banner-katu 3")
    alert = next(a for a in incident["alerts"] if a["responder_id"] == volunteer.id)

    banner = page.locator("#new-alert")
    await expect(banner).to_be_visible()
    await expect(banner).to_contain_text("New alert: Cardiac arrest — open")
    await expect(page.locator("#announce")).to_contain_text("New alert: Cardiac arrest")
    await expect(page.get_by_role("heading", name="Availability")).to_be_visible()
    await screenshot(page, "pwa-new-alert-banner")
    await banner.get_by_role("link", name="open").click()
    await expect(page).to_have_url(re.compile(rf"/app#/alerts/{alert['id']}$"))
    await expect(page.locator("#alert-where")).to_have_text("Where: Banner-katu 3")
    await expect(banner).to_be_hidden()
    await page.get_by_role("button", name="Alerts").click()
    await expect(page.locator("#alert-list")).to_contain_text("Banner-katu 3")
    assert await page.evaluate("window.__sameDocument") is True  # never reloaded


async def test_push_to_an_open_app_shows_the_alert_at_once(
    world: World, new_context: NewContext, live_server: LiveServer
) -> None:
    """The worker tells open windows about a push: the banner shows without waiting for the
    next poll. The page's timers are stopped (a fake clock), so no poll can bring it."""
    volunteer = world.volunteers[0]
    context = await new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    await context.grant_permissions(["notifications"], origin=live_server.url)
    page = await context.new_page()
    await page.clock.install()
    await sign_in_volunteer(page, volunteer.token)
    await controlled(page)
    await page.goto("/app#/availability")
    await expect(page.locator("#me-status")).to_contain_text("active")
    cdp, registration = await _registration_id(page, context, live_server.url)
    incident = await world.dispatch("Viesti-katu 4")
    alert = next(a for a in incident["alerts"] if a["responder_id"] == volunteer.id)
    payload = {
        "v": "1",
        "kind": "alert",
        "alert_id": str(alert["id"]),
        "title": "Cardiac arrest",
        "body": "",
        "url": f"/app#/alerts/{alert['id']}",
        "tag": "incident-x",
    }
    await cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": live_server.url, "registrationId": registration, "data": json.dumps(payload)},
    )
    await expect(page.locator("#new-alert")).to_contain_text("New alert: Cardiac arrest")


# ---------- reachability ----------


async def _serve_key(route: Route) -> None:
    await route.fulfill(json={"public_key": PUBLIC_KEY})


async def _no_key(route: Route) -> None:
    await route.fulfill(
        status=404,
        content_type="application/problem+json",
        body=json.dumps({"code": "not_found", "detail": "Web Push is switched off."}),
    )


async def _card(new_context: NewContext, world: World, **options: Any) -> tuple[Page, Any]:
    key = options.pop("key", _serve_key)
    permission = options.pop("permission", None)
    context = await new_context(viewport=PHONE, is_mobile=True, has_touch=True, **options)
    if permission == "granted":
        await context.grant_permissions(["notifications"], origin=world.server.url)
    page = await context.new_page()
    await page.route("**/push/key", key)
    if permission == "denied":
        # Playwright grants, but cannot deny: Chromium's DevTools protocol can.
        cdp = await context.new_cdp_session(page)
        target = await cdp.send("Target.getTargetInfo")
        await cdp.send(
            "Browser.setPermission",
            {
                "permission": {"name": "notifications"},
                "setting": "denied",
                "origin": world.server.url,
                "browserContextId": target["targetInfo"]["browserContextId"],
            },
        )
    await sign_in_volunteer(page, world.volunteers[1].token)
    return page, page.locator("#reach")


async def test_card_says_when_the_push_service_refuses(
    world: World, new_context: NewContext
) -> None:
    """Headless Chromium has no push service: subscribing fails, and the card says so."""
    page, card = await _card(new_context, world, permission="granted")
    await expect(card).to_have_attribute("data-state", "refused")
    await expect(card).to_contain_text(
        "Alerts reach you only while this app is open: the browser's push service refused ("
    )
    await expect(card).to_contain_text("then try again")
    await expect(card.get_by_role("button", name="Try again")).to_be_visible()
    await screenshot(page, "pwa-reach-refused")
    assert await page.evaluate("localStorage.getItem('ehbo.app.device')") is None


async def test_card_says_when_notifications_are_blocked(
    world: World, new_context: NewContext
) -> None:
    _, card = await _card(new_context, world, permission="denied")
    await expect(card).to_have_attribute("data-state", "blocked")
    await expect(card).to_contain_text(
        "Alerts reach you only while this app is open: notifications are blocked."
    )
    await expect(card).to_contain_text("Notifications → Allow")
    await expect(card.get_by_role("button")).to_be_hidden()


async def test_card_asks_before_turning_alerts_on(world: World, new_context: NewContext) -> None:
    """Nothing asks for the permission on load: a button does, when tapped."""
    page, card = await _card(new_context, world)
    await expect(card).to_have_attribute("data-state", "not_asked")
    await expect(card).to_contain_text("notifications are not turned on yet")
    assert await page.evaluate("Notification.permission") == "default"
    await screenshot(page, "pwa-reach-not-asked")
    await card.get_by_role("button", name="Turn on alerts").click()
    # Headless Chromium answers the question itself (no one to ask): the card follows.
    await expect(card).not_to_have_attribute("data-state", "not_asked")


async def test_card_says_when_web_push_is_off(world: World, new_context: NewContext) -> None:
    page, card = await _card(new_context, world, permission="granted", key=_no_key)
    await expect(card).to_have_attribute("data-state", "service_off")
    await expect(card).to_contain_text(
        "Alerts reach you only while this app is open: the service has Web Push switched off."
    )
    await screenshot(page, "pwa-reach-service-off")


async def test_card_on_an_iphone_says_add_to_home_screen(
    world: World, new_context: NewContext
) -> None:
    iphone = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
    )
    _, card = await _card(new_context, world, user_agent=iphone)
    await expect(card).to_have_attribute("data-state", "ios")
    await expect(card).to_contain_text("on iPhone the app must be added to the Home Screen first")
    await expect(card).to_contain_text("Add to Home Screen to receive alerts")


# ---------- the guard still holds ----------


async def test_requests_from_the_worker_are_guarded_too(
    world: World, new_context: NewContext, outside: Outside
) -> None:
    context = await new_context(viewport=PHONE)
    page = await context.new_page()
    await page.goto("/app")
    await controlled(page)
    worker = await worker_of(context)
    answer = await worker.evaluate(
        "fetch('http://192.0.2.10/leak').then(() => 'reached', () => 'blocked')"
    )
    assert answer == "blocked"
    assert outside.urls == ["http://192.0.2.10/leak"]
    outside.urls.clear()  # seen: the fixture's own check is for unexpected requests


# ---------- install, and the token the worker keeps ----------


async def test_install_button_shows_only_when_the_browser_offers(
    world: World, new_context: NewContext
) -> None:
    page = await (await new_context(viewport=PHONE)).new_page()
    await page.goto("/app")
    button = page.get_by_role("button", name="Install the app")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await expect(button).to_be_hidden()
    offer = """() => {
        window.__prompted = window.__prompted || 0;
        const offer = new Event("beforeinstallprompt", { cancelable: true });
        offer.prompt = () => { window.__prompted += 1; return Promise.resolve(); };
        offer.userChoice = Promise.resolve({ outcome: "accepted" });
        window.dispatchEvent(offer);
        return offer.defaultPrevented;
    }"""
    assert await page.evaluate(offer) is True  # kept for our button, not the browser's bar
    await expect(button).to_be_visible()
    await button.click()
    assert await page.evaluate("window.__prompted") == 1
    await expect(button).to_be_hidden()
    await page.evaluate(offer)
    await expect(button).to_be_visible()
    await page.evaluate("window.dispatchEvent(new Event('appinstalled'))")
    await expect(button).to_be_hidden()
    await expect(page.locator("#announce")).to_contain_text("The app is installed")


_KEPT_TOKEN = """() => new Promise((resolve, reject) => {
    const open = indexedDB.open("ehbo-app", 1);
    open.onupgradeneeded = () => open.result.createObjectStore("kv");
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
        const read = open.result.transaction("kv").objectStore("kv").get("token");
        read.onsuccess = () => { open.result.close(); resolve(read.result || ""); };
    };
})"""


async def test_worker_keeps_the_token_only_when_remembered(
    world: World, new_context: NewContext
) -> None:
    volunteer = world.volunteers[2]
    context = await new_context(viewport=PHONE)
    page = await context.new_page()
    await sign_in_volunteer(page, volunteer.token)  # "Remember on this phone" is ticked
    await controlled(page)
    worker = await worker_of(context)
    assert await eventually(lambda: worker.evaluate(_KEPT_TOKEN)) == volunteer.token
    await page.get_by_role("button", name="Sign out").click()
    await eventually(lambda: worker.evaluate(f"({_KEPT_TOKEN})().then((t) => t === '')"))
    assert await worker.evaluate("memoryToken") == ""

    # Signing out logged the token out on the service too (the Me view's log out): the
    # next sign-in on this phone is another volunteer's.
    other = world.volunteers[3]
    await page.get_by_label("Volunteer token", exact=True).fill(other.token)
    await page.get_by_label("Remember on this phone").uncheck()
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Your alerts")).to_be_visible()
    # In the worker's memory only: gone when the browser stops the worker.
    await eventually(lambda: worker.evaluate(f"memoryToken === {json.dumps(other.token)}"))
    assert await worker.evaluate(_KEPT_TOKEN) == ""


async def test_worker_forgets_the_token_on_a_sign_out_that_keeps_the_address(
    world: World, new_context: NewContext
) -> None:
    """A sign-out on the sign-in screen itself (a signed-in volunteer who went back to
    #/signin) changes no address: the worker still forgets the token."""
    volunteer = world.volunteers[1]
    context = await new_context(viewport=PHONE)
    page = await context.new_page()
    await sign_in_volunteer(page, volunteer.token)
    await controlled(page)
    worker = await worker_of(context)
    assert await eventually(lambda: worker.evaluate(_KEPT_TOKEN)) == volunteer.token
    await page.evaluate("location.hash = '#/signin'")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.locator("#signin-message")).to_have_text("You are logged out.")
    await eventually(lambda: worker.evaluate(f"({_KEPT_TOKEN})().then((t) => t === '')"))
    assert await worker.evaluate("memoryToken") == ""


# The browser's side of a working push service, which headless Chromium lacks: a
# subscription as Chrome makes one (never used to send anything in this test).
_FAKE_PUSH = """
PushManager.prototype.getSubscription = async function () { return window.__sub || null; };
PushManager.prototype.subscribe = async function (options) {
    window.__key = Array.from(new Uint8Array(options.applicationServerKey));
    window.__sub = {
        options,
        endpoint: "https://push.example.org/send/abc",
        toJSON() {
            const keys = { p256dh: "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA",
                           auth: "tBHItJI5svbpez7KI4CCXg" };
            return { endpoint: this.endpoint, expirationTime: null, keys };
        },
        async unsubscribe() { window.__sub = null; return true; },
    };
    return window.__sub;
};
"""


async def test_card_says_the_phone_rings_once_registered(
    world: World, new_context: NewContext
) -> None:
    context = await new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    await context.grant_permissions(["notifications"], origin=world.server.url)
    await context.add_init_script(_FAKE_PUSH)
    page = await context.new_page()
    await page.route("**/push/key", _serve_key)
    posted: list[Any] = []

    async def register(route: Route) -> None:
        # The device route of the contract (helper A's): answered here as it will answer.
        posted.append(route.request.post_data_json)
        await route.fulfill(
            status=201,
            json={
                "id": 42,
                "kind": "webpush",
                "platform": "web",
                "fcm_token": None,
                "endpoint_host": "push.example.org",
                "created_at": "2026-01-01T00:00:00Z",
            },
        )

    await page.route("**/responders/me/devices", register)
    await sign_in_volunteer(page, world.volunteers[3].token)
    card = page.locator("#reach")
    await expect(card).to_have_attribute("data-state", "ready")
    await expect(card.locator("#reach-text")).to_have_text(
        "This phone will ring for alerts, even when the app is closed."
    )
    await expect(card.get_by_role("button")).to_be_hidden()
    await screenshot(page, "pwa-reach-ready")
    key = await page.evaluate("window.__key")
    assert len(key) == 65 and key[0] == 4  # the service's key, decoded from base64url
    assert posted == [
        {
            "kind": "webpush",
            "subscription": {
                "endpoint": "https://push.example.org/send/abc",
                "expirationTime": None,
                "keys": {
                    "p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA",
                    "auth": "tBHItJI5svbpez7KI4CCXg",
                },
            },
        }
    ]
    assert await page.evaluate("localStorage.getItem('ehbo.app.device')") == "42"
    # Signing out unsubscribes: a shared phone stops ringing for that volunteer.
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await eventually(lambda: page.evaluate("window.__sub === null"))
    assert await page.evaluate("localStorage.getItem('ehbo.app.device')") is None
