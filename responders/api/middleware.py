"""Pure ASGI middleware: request body size limit (cheap enough for the hot path)."""

from __future__ import annotations

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from responders.schemas.contact import phone_region

__all__ = ["BodySizeLimit", "PhoneRegion"]


class BodySizeLimit:
    """Refuses bodies over `max_bytes` with 413, whether declared or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _too_large(send, self.max_bytes)
            return
        await self.app(scope, self._counting(receive), send)

    def _counting(self, receive: Receive) -> Receive:
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                # Raised inside the app, so the app's own handler answers 413.
                raise HTTPException(413, f"request body over {self.max_bytes} bytes")
            return message

        return counted


class PhoneRegion:
    """Phone numbers in this request without a country code belong to `region`."""

    def __init__(self, app: ASGIApp, region: str) -> None:
        self.app = app
        self.region = region

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with phone_region(self.region):
            await self.app(scope, receive, send)


async def _too_large(send: Send, limit: int) -> None:
    body = orjson.dumps({"code": "too_large", "detail": f"request body over {limit} bytes"})
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})
