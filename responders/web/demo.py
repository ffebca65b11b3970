"""`/demo/...`: the demo phone's helpers. Every route answers 404 unless the app runs with
`settings.api.demo_credentials` (only `ehbo demo` sets it).

The demo also runs the local Web Push service under `/webpush` of its port (`mount_webpush`);
`/demo/webpush/messages` shows what it received, decrypted (the demo's subscriptions are made
with their private keys) and tied to the volunteer whose subscription it was.

The credentials file holds the demo tokens. The list route hands out no token; a token
leaves the server only for one volunteer (or the demo operator) the person at the demo
picked, so the page can open that volunteer's alert screen.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel

from responders.db.gateway import Database
from responders.demo_tokens import volunteer_token
from responders.errors import NotFound
from responders.registry.store import demo_volunteers
from responders.settings import Settings

if TYPE_CHECKING:
    from responders.emulators.webpush import SubscriberKeys, WebPushServerState

__all__ = [
    "WEBPUSH_PATH",
    "demo_credentials",
    "mount_webpush",
    "router",
    "volunteer_subscription",
    "webpush_label",
]

# Where the demo mounts the local push service: endpoints are <origin>/webpush/push/<id>.
WEBPUSH_PATH = "/webpush"

router = APIRouter(prefix="/demo", include_in_schema=False)


class _DemoVolunteer(BaseModel):
    id: int
    name: str
    devices: list[str]


class DemoToken(BaseModel):
    token: str


def demo_credentials(request: Request) -> dict[str, Any]:
    """The demo's tokens; NotFound (404) when this is not the demo."""
    settings: Settings = request.app.state.settings
    path: Path | None = settings.api.demo_credentials
    if path is None:
        raise NotFound("not found")
    return _read_credentials(path)


# The demo writes the file once, before it serves: read it once per path. A failed read is
# not cached (an exception is no result), so a file that appears later is still found.
@cache
def _read_credentials(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise NotFound("the demo credentials file is not readable") from exc
    if not isinstance(data, dict):
        raise NotFound("the demo credentials file is not readable")
    return data


def _volunteer_tokens(request: Request) -> dict[int, str]:
    raw = demo_credentials(request).get("volunteers") or {}
    tokens = {str(k): volunteer_token(v) for k, v in raw.items()}
    return {int(k): token for k, token in tokens.items() if k.isdigit() and token}


@router.get("/volunteers")
async def volunteers(request: Request) -> list[_DemoVolunteer]:
    """The demo volunteers (names and device tokens; no bearer tokens)."""
    # The app's gateway as the pages read their settings: from the app's state (the web
    # package does not import the API's dependencies).
    db: Database = request.app.state.db
    found = await demo_volunteers(db, list(_volunteer_tokens(request)))
    return [_DemoVolunteer(id=v.id, name=v.name, devices=v.devices) for v in found]


@router.post("/volunteers/{responder_id}/session")
async def volunteer_session(responder_id: int, request: Request) -> DemoToken:
    """One demo volunteer's bearer token, for the alert screen the demo phone opens."""
    token = _volunteer_tokens(request).get(responder_id)
    if token is None:
        raise NotFound("no such demo volunteer")
    return DemoToken(token=token)


@router.post("/operator/session")
async def operator_session(request: Request) -> DemoToken:
    """The demo operator's bearer token, to sign the console in with one click."""
    token = demo_credentials(request).get("operator")
    if not isinstance(token, str):
        raise NotFound("the demo has no operator token")
    return DemoToken(token=token)


# --- the local Web Push service (issue 15) --------------------------------------------------


def mount_webpush(app: FastAPI) -> WebPushServerState:
    """Serve a local push service under WEBPUSH_PATH of `app`; its state is kept on
    `app.state.webpush_service` for `/demo/webpush/messages`."""
    # Imported here: only the demo (and tests) run the service, the API never needs it.
    from responders.emulators.webpush import create_webpush_app

    service = create_webpush_app()
    app.mount(WEBPUSH_PATH, service)
    state: WebPushServerState = service.state.webpush
    app.state.webpush_service = state
    return state


_LABEL = "volunteer:"


def webpush_label(responder_id: int) -> str:
    """The label a demo volunteer's subscription carries, so its pushes show as theirs."""
    return f"{_LABEL}{responder_id}"


def volunteer_subscription(
    state: WebPushServerState,
    base_url: str,
    responder_id: int,
    keys: SubscriberKeys | None = None,
    *,
    subscription_id: str | None = None,
) -> str:
    """A subscription on the demo's push service for this volunteer (labelled so the demo
    phone shows its pushes as theirs): its endpoint. `base_url` is the demo's URL;
    `subscription_id` keeps an endpoint the same from run to run (random by default)."""
    from responders.emulators.webpush import create_subscription

    return create_subscription(
        state,
        base_url.rstrip("/") + WEBPUSH_PATH,
        keys,
        label=webpush_label(responder_id),
        subscription_id=subscription_id,
    )


class _DemoWebPush(BaseModel):
    id: str
    subscription: str
    endpoint: str
    responder_id: int | None
    received_at: str
    received_at_unix: float
    ttl: int
    urgency: str
    topic: str | None
    size: int
    payload: Any


def _responder_of(label: str | None) -> int | None:
    number = label.removeprefix(_LABEL) if label and label.startswith(_LABEL) else ""
    return int(number) if number.isdigit() else None


@router.get("/webpush/messages")
async def webpush_messages(request: Request) -> list[_DemoWebPush]:
    """What the local push service received, oldest first: payloads decrypted, each with
    its endpoint and (for the demo's own subscriptions) the volunteer's id."""
    from responders.emulators.webpush import endpoint_of

    demo_credentials(request)
    state: WebPushServerState | None = getattr(request.app.state, "webpush_service", None)
    if state is None:
        raise NotFound("this demo runs no local push service")
    base = str(request.base_url).rstrip("/") + WEBPUSH_PATH
    return [
        _DemoWebPush(
            **{k: v for k, v in m.items() if k in _DemoWebPush.model_fields},
            endpoint=endpoint_of(base, m["subscription"]),
            responder_id=_responder_of(m["label"]),
        )
        for m in (message.to_json() for message in state.messages())
    ]
