"""A local push service that speaks RFC 8030 (with RFC 8291 payloads and RFC 8292 VAPID),
for the demo and the tests, as `responders.emulators.fcm` is for FCM.

`POST /push/{id}` takes an encrypted push message for a subscription the service handed
out (see `_push` for the checks and their answers); `/_admin/...` makes subscriptions,
injects faults and shows what each "browser" received (see `_admin`). Endpoints are
absolute URLs of the service as reached, so mounted under `/webpush` of the demo's port the
endpoint is `http://127.0.0.1:8000/webpush/push/<id>` and a VAPID `aud` names that origin.

Run it with `run_webpush_server(host, port)` or `python -m responders.emulators.webpush`;
in tests, `with WebPushServerThread() as server: server.url, server.state`.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence

import uvicorn
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from responders.emulators._thread import ServiceThread
from responders.emulators.webpush._admin import admin_routes, service_url
from responders.emulators.webpush._push import MAX_BODY_BYTES, handle_push
from responders.emulators.webpush._state import WebPushServerState
from responders.push.vapid import origin_of

# The package (`responders.emulators.webpush`) exports these with the state and key types.
__all__ = ["WebPushServerThread", "create_webpush_app", "main", "run_webpush_server"]


def create_webpush_app(state: WebPushServerState | None = None) -> Starlette:
    """The ASGI app; `app.state.webpush` is its `WebPushServerState`."""
    service = state if state is not None else WebPushServerState()

    async def push(request: Request) -> Response:
        try:
            raw = await _read_at_most(request, MAX_BODY_BYTES)
        except ClientDisconnect:
            return Response(status_code=499)  # nobody is listening any more
        # The delay comes after the body is in: a push whose sender timed out may still be
        # delivered, so a retry can reach the browser twice (as with a real service).
        latency = service.latency_s
        if latency:
            await asyncio.sleep(latency)
        audience = service.origin or origin_of(service_url(request))
        headers = {name.lower(): value for name, value in request.headers.items()}
        reply = handle_push(service, request.path_params["id"], headers, raw, audience)
        extra = dict(reply.headers)
        if extra.get("Location", "").startswith("/"):
            extra["Location"] = request.scope.get("root_path", "") + extra["Location"]
        if reply.body is None:
            return Response(status_code=reply.status, headers=extra)
        return JSONResponse(dict(reply.body), status_code=reply.status, headers=extra)

    routes = [Route("/push/{id}", push, methods=["POST"]), *admin_routes(service)]
    app = Starlette(routes=routes)
    app.state.webpush = service
    return app


async def _read_at_most(request: Request, limit: int) -> bytes | None:
    """The body, or None once it passes `limit` bytes (the rest is not kept in memory)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def run_webpush_server(
    host: str = "127.0.0.1", port: int = 8766, state: WebPushServerState | None = None
) -> None:
    """Serves until interrupted (blocking)."""
    uvicorn.run(create_webpush_app(state), host=host, port=port, log_level="warning")


class WebPushServerThread(ServiceThread):
    """The server on a background thread (see `ServiceThread`); `.state` is its state."""

    def __init__(
        self,
        state: WebPushServerState | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        shutdown_timeout_s: float = 2.0,
    ) -> None:
        self.state = state if state is not None else WebPushServerState()
        super().__init__(
            create_webpush_app(self.state),
            name="local push service",
            host=host,
            port=port,
            shutdown_timeout_s=shutdown_timeout_s,
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local Web Push (RFC 8030) service")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument(
        "--origin", default=None, help="the origin VAPID aud must name (default: as reached)"
    )
    args = parser.parse_args(argv)
    run_webpush_server(args.host, args.port, WebPushServerState(origin=args.origin))
