"""`/_admin/...` routes of the local FCM server: fault injection and the received messages.

| method | path | body / query |
|---|---|---|
| GET, DELETE | /_admin/messages | `?token=` (optional; without it: all) |
| GET, POST, DELETE | /_admin/faults | POST `{"kind", "count", "tokens", "retry_after_s"}` |
| POST, DELETE | /_admin/unregistered | `{"tokens": [...]}` (DELETE without body: all) |
| POST, DELETE | /_admin/outage | POST `{"duration_s" (null: until DELETE), "retry_after_s"}` |
| PUT | /_admin/latency | `{"seconds": 0.2}` |
| GET | /_admin/stats | |

A fault's `count` null means "until DELETE"; `tokens` null means any token.
| POST | /_admin/reset | |
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from responders.emulators._admin_kit import (
    BadRequest,
    json_body,
    latency_route,
    number,
    ok,
    route,
    whole,
)
from responders.emulators.fcm._state import FcmServerState

__all__ = ["admin_routes"]


def admin_routes(state: FcmServerState) -> list[Route]:
    return [
        route(
            "/_admin/messages",
            {
                "GET": lambda r: _messages(state, r),
                "DELETE": lambda r: {"deleted": state.clear_messages(r.query_params.get("token"))},
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
        route(
            "/_admin/unregistered",
            {
                "POST": lambda r: _unregister(state, r),
                "DELETE": lambda r: _reregister(state, r),
            },
        ),
        route(
            "/_admin/outage",
            {
                "POST": lambda r: _start_outage(state, r),
                "DELETE": ok(state.end_outage),
            },
        ),
        latency_route(state),
        route("/_admin/stats", {"GET": lambda r: state.stats()}),
        route("/_admin/reset", {"POST": ok(state.reset)}),
    ]


def _tokens(body: dict[str, Any]) -> list[str] | None:
    tokens = body.get("tokens")
    if tokens is None:
        return None
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        raise BadRequest("tokens must be a list of strings")
    return tokens


def _messages(state: FcmServerState, request: Request) -> dict[str, Any]:
    token = request.query_params.get("token")
    return {"messages": [m.to_json() for m in state.messages(token)]}


async def _add_fault(state: FcmServerState, request: Request) -> dict[str, Any]:
    body = await json_body(request)
    if "kind" not in body:
        raise BadRequest("kind is required")
    rule = state.fail_next(
        body["kind"],
        whole(body, "count", default=1),
        tokens=_tokens(body),
        retry_after_s=whole(body, "retry_after_s"),
    )
    return rule.to_json()


async def _unregister(state: FcmServerState, request: Request) -> dict[str, Any]:
    tokens = _tokens(await json_body(request))
    if not tokens:
        raise BadRequest("tokens is required")
    state.unregister(*tokens)
    return {"ok": True}


async def _reregister(state: FcmServerState, request: Request) -> dict[str, Any]:
    state.reregister(*(_tokens(await json_body(request)) or ()))
    return {"ok": True}


async def _start_outage(state: FcmServerState, request: Request) -> dict[str, Any]:
    body = await json_body(request)
    state.start_outage(
        number(body, "duration_s"),
        retry_after_s=whole(body, "retry_after_s"),
    )
    return {"ok": True}
