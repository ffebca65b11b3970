"""`GET /push/key`: the service's VAPID public key, for `pushManager.subscribe()`."""

from __future__ import annotations

import threading

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from responders.errors import NotFound
from responders.push.vapid import VapidKey, load_vapid_key
from responders.settings import Settings

__all__ = ["router", "vapid_key"]

router = APIRouter(prefix="/push", tags=["push"])

_LOAD_LOCK = threading.Lock()


class PushKey(BaseModel):
    public_key: str = Field(
        description="base64url of the uncompressed P-256 point (65 bytes): the "
        "`applicationServerKey` a browser subscribes with"
    )


def vapid_key(request: Request) -> VapidKey:
    """The app's key, read (or generated, the first time ever) on first use."""
    state = request.app.state
    with _LOAD_LOCK:
        if getattr(state, "vapid_key", None) is None:
            settings: Settings = state.settings
            state.vapid_key = load_vapid_key(settings.webpush)
        key: VapidKey = state.vapid_key
        return key


@router.get("/key", responses={404: {"description": "Web Push is switched off"}})
async def push_key(request: Request) -> PushKey:
    """Anonymous: a browser needs it before the volunteer has signed in anywhere."""
    if not request.app.state.settings.webpush.enabled:
        raise NotFound("Web Push is switched off in this service")
    return PushKey(public_key=vapid_key(request).public_key)
