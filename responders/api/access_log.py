"""An access log that never holds personal data.

Uvicorn's access log prints full URLs, and `/route?from=60.17,24.94` is a volunteer's
position; this one logs the route's template, the status and the time, nothing else.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["AccessLog"]

log = logging.getLogger("responders.access")


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        began, status = time.perf_counter(), 500

        async def record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "(unmatched)"
            elapsed = (time.perf_counter() - began) * 1000
            log.info("%s %s %d %.1fms", scope["method"], path, status, elapsed)
