"""The admin routes' plumbing both local services share: JSON in, JSON out, one error shape."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from responders.emulators._state_kit import ServiceState

__all__ = [
    "BadRequest",
    "NotFound",
    "json_body",
    "latency_route",
    "number",
    "ok",
    "route",
    "whole",
]

Handler = Callable[[Request], Any]  # returns (or awaits to) the JSON answer


class BadRequest(Exception):
    """400 with the message: the admin request itself is wrong."""


class NotFound(Exception):
    """404 with the message: what the admin request names does not exist."""


def route(path: str, handlers: dict[str, Handler]) -> Route:
    """One admin path, a handler per HTTP method."""
    return Route(path, _dispatch(handlers), methods=list(handlers))


def _dispatch(handlers: dict[str, Handler]) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            result = handlers[request.method](request)
            if isinstance(result, Awaitable):
                result = await result
        except NotFound as exc:
            return JSONResponse({"code": "not_found", "detail": str(exc)}, status_code=404)
        except (BadRequest, ValueError, TypeError) as exc:
            return JSONResponse({"code": "invalid", "detail": str(exc)}, status_code=400)
        return JSONResponse(result)

    return endpoint


def latency_route(state: ServiceState[Any, Any]) -> Route:
    """`PUT /_admin/latency {"seconds": 0.2}`: the delay before each send is answered."""

    async def set_latency(request: Request) -> dict[str, Any]:
        seconds = number(await json_body(request), "seconds")
        if seconds is None:
            raise BadRequest("seconds is required")
        state.latency_s = seconds
        return {"ok": True}

    return route("/_admin/latency", {"PUT": set_latency})


def ok(action: Callable[[], None]) -> Handler:
    """A handler that does `action` and says so."""

    def handler(_: Request) -> dict[str, Any]:
        action()
        return {"ok": True}

    return handler


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object (an empty body is an empty object)."""
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise BadRequest(f"body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object")
    return body


def number(body: dict[str, Any], name: str, default: float | None = None) -> float | None:
    """The body's field `name` as a number (JSON null or absent: `default`)."""
    value = body.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRequest(f"{name} must be a number or null")
    return float(value)


def whole(body: dict[str, Any], name: str, default: int | None = None) -> int | None:
    """As `number`, for a count or seconds that must be whole (1.5 is refused, not cut)."""
    value = number(body, name, default)
    if value is not None and value != int(value):
        raise BadRequest(f"{name} must be a whole number")
    return None if value is None else int(value)
