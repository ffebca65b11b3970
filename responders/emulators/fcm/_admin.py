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

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from responders.emulators.fcm._state import FcmServerState

__all__ = ["admin_routes"]

_Num = TypeVar("_Num", int, float)
_Handler = Callable[[Request], Awaitable[Response]]


class _BadRequest(Exception):
    pass


def admin_routes(state: FcmServerState) -> list[Route]:
    def route(path: str, handlers: dict[str, Callable[[Request], Any]]) -> Route:
        return Route(path, _dispatch(handlers), methods=list(handlers))

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
                "DELETE": _ok(state.clear_faults),
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
                "DELETE": _ok(state.end_outage),
            },
        ),
        route("/_admin/latency", {"PUT": lambda r: _set_latency(state, r)}),
        route("/_admin/stats", {"GET": lambda r: state.stats()}),
        route("/_admin/reset", {"POST": _ok(state.reset)}),
    ]


def _dispatch(handlers: dict[str, Callable[[Request], Any]]) -> _Handler:
    async def endpoint(request: Request) -> Response:
        try:
            result = handlers[request.method](request)
            if isinstance(result, Awaitable):
                result = await result
        except (_BadRequest, ValueError, TypeError) as exc:
            return JSONResponse({"code": "invalid", "detail": str(exc)}, status_code=400)
        return JSONResponse(result)

    return endpoint


def _ok(action: Callable[[], None]) -> Callable[[Request], dict[str, Any]]:
    def handler(_: Request) -> dict[str, Any]:
        action()
        return {"ok": True}

    return handler


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise _BadRequest(f"body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise _BadRequest("body must be a JSON object")
    return body


def _tokens(body: dict[str, Any]) -> list[str] | None:
    tokens = body.get("tokens")
    if tokens is None:
        return None
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        raise _BadRequest("tokens must be a list of strings")
    return tokens


def _optional(
    body: dict[str, Any], name: str, kind: type[_Num], default: _Num | None = None
) -> _Num | None:
    value = body.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _BadRequest(f"{name} must be a number or null")
    return kind(value)


def _messages(state: FcmServerState, request: Request) -> dict[str, Any]:
    token = request.query_params.get("token")
    return {"messages": [m.to_json() for m in state.messages(token)]}


async def _add_fault(state: FcmServerState, request: Request) -> dict[str, Any]:
    body = await _json(request)
    if "kind" not in body:
        raise _BadRequest("kind is required")
    rule = state.fail_next(
        body["kind"],
        _optional(body, "count", int, default=1),
        tokens=_tokens(body),
        retry_after_s=_optional(body, "retry_after_s", int),
    )
    return rule.to_json()


async def _unregister(state: FcmServerState, request: Request) -> dict[str, Any]:
    tokens = _tokens(await _json(request))
    if not tokens:
        raise _BadRequest("tokens is required")
    state.unregister(*tokens)
    return {"ok": True}


async def _reregister(state: FcmServerState, request: Request) -> dict[str, Any]:
    state.reregister(*(_tokens(await _json(request)) or ()))
    return {"ok": True}


async def _start_outage(state: FcmServerState, request: Request) -> dict[str, Any]:
    body = await _json(request)
    state.start_outage(
        _optional(body, "duration_s", float),
        retry_after_s=_optional(body, "retry_after_s", int),
    )
    return {"ok": True}


async def _set_latency(state: FcmServerState, request: Request) -> dict[str, Any]:
    seconds = _optional(await _json(request), "seconds", float)
    if seconds is None:
        raise _BadRequest("seconds is required")
    state.latency_s = seconds
    return {"ok": True}
