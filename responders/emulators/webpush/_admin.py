"""`/_admin/...` routes of the local push service, and `create_subscription` for Python.

| method | path | body / query |
|---|---|---|
| GET, POST | /_admin/subscriptions | POST `{"p256dh", "auth", "private_key", "label", "id",
  "application_server_key"}` (all optional) |
| DELETE | /_admin/subscriptions/{id} | later pushes to it get 410 |
| GET, DELETE | /_admin/messages | `?subscription=` (optional; without it: all) |
| GET, POST, DELETE | /_admin/faults | POST `{"status", "count", "subscription", "retry_after"}` |
| PUT | /_admin/latency | `{"seconds": 0.2}` |
| POST | /_admin/reset | |

A subscription made without keys gets keys the service makes (so it can show the payloads);
with `private_key` (PEM, or base64url of the 32-byte scalar) and `auth` it can decrypt too;
with only `p256dh` and `auth` it stores the messages without reading them. A fault's `count`
null means "until DELETE"; `subscription` null means any.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from responders.emulators._admin_kit import (
    BadRequest,
    NotFound,
    json_body,
    latency_route,
    ok,
    route,
    whole,
)
from responders.emulators.webpush._keys import SubscriberKeys
from responders.emulators.webpush._state import WebPushServerState
from responders.push.endpoints import AUTH_BYTES, P256DH_BYTES, key_problem
from responders.push.vapid import b64url, b64url_decode

__all__ = ["admin_routes", "create_subscription", "endpoint_of", "service_url"]


def service_url(request: Request) -> str:
    """The service's absolute base URL as this request reached it, with the path it is
    mounted under (`/webpush` in the demo)."""
    url = request.url
    return f"{url.scheme}://{url.netloc}{request.scope.get('root_path', '')}".rstrip("/")


def endpoint_of(base_url: str, subscription_id: str) -> str:
    return f"{base_url.rstrip('/')}/push/{subscription_id}"


def create_subscription(
    state: WebPushServerState,
    base_url: str,
    keys: SubscriberKeys | None = None,
    *,
    label: str | None = None,
    subscription_id: str | None = None,
) -> str:
    """A new subscription's endpoint (absolute, under `base_url`, the service's URL).

    Without `keys` the service makes them, so it can still show what the push said.
    """
    made = state.subscribe(
        keys or SubscriberKeys.generate(), label=label, subscription_id=subscription_id
    )
    return endpoint_of(base_url, made.id)


def admin_routes(state: WebPushServerState) -> list[Route]:
    return [
        route(
            "/_admin/subscriptions",
            {
                "GET": lambda r: {"subscriptions": [s.to_json() for s in state.subscriptions()]},
                "POST": lambda r: _subscribe(state, r),
            },
        ),
        route("/_admin/subscriptions/{id}", {"DELETE": lambda r: _unsubscribe(state, r)}),
        route(
            "/_admin/messages",
            {
                "GET": lambda r: _messages(state, r),
                "DELETE": lambda r: {
                    "deleted": state.clear_messages(r.query_params.get("subscription"))
                },
            },
        ),
        route(
            "/_admin/faults",
            {
                "GET": lambda r: {"faults": [rule.to_json() for rule in state.faults()]},
                "POST": lambda r: _add_fault(state, r),
                "DELETE": ok(state.clear_faults),
            },
        ),
        latency_route(state),
        route("/_admin/reset", {"POST": ok(state.reset)}),
    ]


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and (not isinstance(value, str) or not value):
        raise BadRequest(f"{name} must be a non-empty string or null")
    return value


def _subscriber_keys(body: dict[str, Any]) -> tuple[SubscriberKeys | None, str | None, str | None]:
    """(keys the service can decrypt with, p256dh, auth) from the request body."""
    p256dh, auth = _text(body, "p256dh"), _text(body, "auth")
    private_key = _text(body, "private_key")
    if private_key is None and p256dh is None and auth is None:
        return SubscriberKeys.generate(), None, None
    if private_key is None:
        if p256dh is None or auth is None:
            raise BadRequest("p256dh and auth come together")
        # The sender's own check of a subscription's keys (sizes, and a point on the curve).
        for name, value, size in (("p256dh", p256dh, P256DH_BYTES), ("auth", auth, AUTH_BYTES)):
            problem = key_problem(name, value, size)
            if problem is not None:
                raise BadRequest(problem)
        return None, p256dh, auth
    if auth is None:
        raise BadRequest("auth is required with private_key")
    keys = SubscriberKeys.from_private_key(private_key, auth)
    if p256dh is not None and b64url_decode(p256dh) != b64url_decode(keys.p256dh):
        raise BadRequest("p256dh is not the public key of private_key")
    return keys, None, None


async def _subscribe(state: WebPushServerState, request: Request) -> dict[str, Any]:
    body = await json_body(request)
    keys, p256dh, auth = _subscriber_keys(body)
    server_key = _text(body, "application_server_key")
    if server_key is not None:
        server_key = b64url(b64url_decode(server_key))  # one spelling: no padding
    made = state.subscribe(
        keys,
        p256dh=p256dh,
        auth=auth,
        label=_text(body, "label"),
        subscription_id=_text(body, "id"),
        application_server_key=server_key,
    )
    return {
        "id": made.id,
        "endpoint": endpoint_of(service_url(request), made.id),
        "keys": {"p256dh": made.p256dh, "auth": made.auth},
        "readable": made.keys is not None,
    }


def _unsubscribe(state: WebPushServerState, request: Request) -> dict[str, Any]:
    if not state.unsubscribe(request.path_params["id"]):
        raise NotFound("no such subscription")
    return {"ok": True}


def _messages(state: WebPushServerState, request: Request) -> dict[str, Any]:
    subscription = request.query_params.get("subscription")
    return {"messages": [m.to_json() for m in state.messages(subscription)]}


async def _add_fault(state: WebPushServerState, request: Request) -> dict[str, Any]:
    body = await json_body(request)
    status = whole(body, "status")
    if status is None:
        raise BadRequest("status is required")
    rule = state.fail_next(
        status,
        whole(body, "count", default=1),
        subscription=_text(body, "subscription"),
        retry_after_s=whole(body, "retry_after"),
    )
    return rule.to_json()
