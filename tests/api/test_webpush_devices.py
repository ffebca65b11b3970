"""Web Push devices and the VAPID key through the API (issue 15, item 2)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from responders.api import create_app
from responders.emulators.webpush import SubscriberKeys
from responders.push.vapid import b64url
from responders.settings import Settings
from routing import Router
from tests.api.test_responders import register

KEYS = SubscriberKeys.generate()
ENDPOINT = "https://fcm.googleapis.com/fcm/send/dGVzdA:APA91bH"


def webpush(endpoint: str = ENDPOINT, **keys: str) -> dict[str, Any]:
    subscription = KEYS.subscription(endpoint)
    subscription["keys"].update(keys)
    return {"kind": "webpush", "subscription": subscription}


async def test_a_subscription_registers_once_and_shows_only_its_host(
    client: httpx.AsyncClient,
) -> None:
    _, headers = await register(client, device=None)
    first = await client.post("/responders/me/devices", headers=headers, json=webpush())
    assert first.status_code == 201, first.text
    device = first.json()
    assert device["kind"] == "webpush" and device["platform"] == "web"
    assert device["fcm_token"] is None and device["endpoint_host"] == "fcm.googleapis.com"
    again = await client.post("/responders/me/devices", headers=headers, json=webpush())
    assert again.status_code == 201 and again.json()["id"] == device["id"]
    me = (await client.get("/responders/me", headers=headers)).json()
    assert me["devices"] == [device]
    assert ENDPOINT not in str(me), "the endpoint is a credential: only its host is shown"


async def test_fcm_and_webpush_devices_side_by_side(client: httpx.AsyncClient) -> None:
    responder, headers = await register(client)  # with an FCM device, no `kind`
    assert responder["devices"][0]["kind"] == "fcm"
    assert responder["devices"][0]["endpoint_host"] is None
    explicit = {"kind": "fcm", "fcm_token": "tok-explicit", "platform": "android"}
    assert (await client.post("/responders/me/devices", headers=headers, json=explicit)).is_success
    assert (await client.post("/responders/me/devices", headers=headers, json=webpush())).is_success
    devices = (await client.get("/responders/me", headers=headers)).json()["devices"]
    assert [d["kind"] for d in devices] == ["fcm", "fcm", "webpush"]


async def test_a_loopback_endpoint_is_taken_where_the_setting_allows_it(
    client: httpx.AsyncClient,
) -> None:
    """The session's settings allow loopback, as the demo's do (its local push service)."""
    _, headers = await register(client, device=None)
    body = webpush("http://127.0.0.1:8000/webpush/push/abc")
    response = await client.post("/responders/me/devices", headers=headers, json=body)
    assert response.status_code == 201 and response.json()["endpoint_host"] == "127.0.0.1"


async def test_bad_subscriptions_are_422_naming_the_field(client: httpx.AsyncClient) -> None:
    _, headers = await register(client, device=None)
    cases = [
        (webpush("https://10.0.0.8/push/1"), "body.subscription.endpoint"),
        (webpush("http://fcm.googleapis.com/fcm/send/x"), "body.subscription.endpoint"),
        (webpush("https://169.254.169.254/latest"), "body.subscription.endpoint"),
        (webpush(p256dh=b64url(b"\x04" * 30)), "body.subscription.keys.p256dh"),
        (webpush(auth=b64url(b"short")), "body.subscription.keys.auth"),
        (
            {"kind": "webpush", "subscription": {"keys": KEYS.subscription("x")["keys"]}},
            "body.subscription.endpoint",
        ),
        ({"kind": "webpush"}, "body.subscription"),
        ({"kind": "fcm", "platform": "android"}, "body.fcm_token"),
        ({"platform": "android"}, "body.fcm_token"),
    ]
    for body, field in cases:
        response = await client.post("/responders/me/devices", headers=headers, json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["field"] == field, (body, response.json())
    me = (await client.get("/responders/me", headers=headers)).json()
    assert me["devices"] == []


async def test_a_subscription_another_volunteer_holds_is_409(client: httpx.AsyncClient) -> None:
    _, first = await register(client, device=None)
    _, second = await register(client, email="eero@example.org", device=None)
    assert (await client.post("/responders/me/devices", headers=first, json=webpush())).is_success
    taken = await client.post("/responders/me/devices", headers=second, json=webpush())
    assert taken.status_code == 409
    # Signing out of the browser that registered it lets it go with the sign-in.
    assert (await client.post("/responders/me/logout", headers=first)).status_code == 204
    moved = await client.post("/responders/me/devices", headers=second, json=webpush())
    assert moved.status_code == 201


async def test_the_push_key_is_the_key_files_public_key(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    response = await client.get("/push/key")
    assert response.status_code == 200
    pem = settings.webpush.vapid_key_file.read_bytes()
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert response.json() == {"public_key": b64url(point)}


@asynccontextmanager
async def _client_with(settings: Settings, router: Router) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, router=router)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


async def test_without_loopback_allowed_a_local_endpoint_is_refused(
    settings: Settings, helsinki_router: Router, clean_db: Any
) -> None:
    strict = settings.model_copy(
        update={"webpush": settings.webpush.model_copy(update={"allow_loopback": False})}
    )
    async with _client_with(strict, helsinki_router) as client:
        _, headers = await register(client, device=None)
        for endpoint in ("http://127.0.0.1:8000/webpush/push/abc", "https://localhost/push/1"):
            body = webpush(endpoint)
            response = await client.post("/responders/me/devices", headers=headers, json=body)
            assert response.status_code == 422
            assert response.json()["field"] == "body.subscription.endpoint"


async def test_the_push_key_is_404_when_web_push_is_off(
    settings: Settings, helsinki_router: Router, clean_db: Any
) -> None:
    off = settings.model_copy(
        update={"webpush": settings.webpush.model_copy(update={"enabled": False})}
    )
    async with _client_with(off, helsinki_router) as client:
        response = await client.get("/push/key")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
