"""`GET /push/key`: the service's VAPID public key, for `pushManager.subscribe()`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from responders.errors import NotFound
from responders.push.vapid import VapidKey

__all__ = ["router"]

router = APIRouter(prefix="/push", tags=["push"])


class PushKey(BaseModel):
    public_key: str = Field(
        description="base64url of the uncompressed P-256 point (65 bytes): the "
        "`applicationServerKey` a browser subscribes with"
    )


@router.get("/key", responses={404: {"description": "Web Push is switched off"}})
async def push_key(request: Request) -> PushKey:
    """Anonymous: a browser needs it before the volunteer has signed in anywhere."""
    key: VapidKey | None = request.app.state.vapid_key  # None: switched off (the lifespan)
    if key is None:
        raise NotFound("Web Push is switched off in this service")
    return PushKey(public_key=key.public_key)
