"""A local server that speaks the FCM HTTP v1 wire protocol, for the demo and the tests.

firebase-admin's real messaging client is pointed at it (see `responders.push.fcm`), so the
whole dispatch path runs unmocked: `POST /v1/projects/{project}/messages:send` validates like
FCM and answers Google's error bodies, and `/_admin/...` injects faults and shows what each
"phone" received (see `_admin` for the table of admin routes).

Run it with `run_fcm_server(host, port)` or `python -m responders.emulators.fcm`; in tests
and the demo process, `with FcmServerThread() as server: server.url, server.state`.
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
from responders.emulators.fcm._admin import admin_routes
from responders.emulators.fcm._send import handle_send
from responders.emulators.fcm._state import FcmServerState

# The package (`responders.emulators.fcm`) exports these with the state and fault types.
__all__ = ["FcmServerThread", "create_fcm_app", "main", "run_fcm_server"]


def create_fcm_app(state: FcmServerState | None = None) -> Starlette:
    """The ASGI app; `app.state.fcm` is its `FcmServerState`."""
    fcm = state if state is not None else FcmServerState()

    async def send(request: Request) -> Response:
        try:
            raw = await request.body()
        except ClientDisconnect:
            return Response(status_code=499)  # nobody is listening any more
        # The delay comes after the body is in: like FCM, a send whose caller timed out
        # may still be delivered, so a retry can reach the phone twice.
        latency = fcm.latency_s
        if latency:
            await asyncio.sleep(latency)
        project = request.path_params["project"]
        reply = handle_send(fcm, project, request.headers.get("authorization"), raw)
        return JSONResponse(dict(reply.body), status_code=reply.status, headers=reply.headers)

    routes = [
        Route("/v1/projects/{project}/messages:send", send, methods=["POST"]),
        *admin_routes(fcm),
    ]
    app = Starlette(routes=routes)
    app.state.fcm = fcm
    return app


def run_fcm_server(
    host: str = "127.0.0.1", port: int = 8765, state: FcmServerState | None = None
) -> None:
    """Serves until interrupted (blocking)."""
    uvicorn.run(create_fcm_app(state), host=host, port=port, log_level="warning")


class FcmServerThread(ServiceThread):
    """The server on a background thread (see `ServiceThread`); `.state` is its state."""

    def __init__(
        self,
        state: FcmServerState | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        shutdown_timeout_s: float = 2.0,
    ) -> None:
        self.state = state if state is not None else FcmServerState()
        super().__init__(
            create_fcm_app(self.state),
            name="local FCM server",
            host=host,
            port=port,
            shutdown_timeout_s=shutdown_timeout_s,
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local FCM HTTP v1 server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--project-id", default=None, help="refuse other projects (403)")
    parser.add_argument(
        "--unregistered-prefix", default=None, help="tokens with this prefix are UNREGISTERED"
    )
    args = parser.parse_args(argv)
    state = FcmServerState(project_id=args.project_id, unregistered_prefix=args.unregistered_prefix)
    run_fcm_server(args.host, args.port, state)
