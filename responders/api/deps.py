"""Dependencies as `Annotated` aliases: `DbDep`, `CurrentResponder`, `CurrentOperator`…"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from responders.api.events import EventHub
from responders.api.limits import Limits
from responders.auth import (
    OperatorPrincipal,
    authenticate_any,
    authenticate_operator,
    authenticate_responder,
    require_role,
)
from responders.db.gateway import Database
from responders.dispatch.waves import DispatchContext
from responders.errors import Unauthorized, Unavailable
from responders.routes import RouteDrawer
from responders.settings import Settings
from routing import Router

__all__ = [
    "AnyCaller",
    "BearerToken",
    "CurrentCoordinator",
    "CurrentOperator",
    "CurrentResponder",
    "DbDep",
    "DispatchContextDep",
    "EventHubDep",
    "LimitsDep",
    "PathId",
    "RouteDrawerDep",
    "RouterDep",
    "SettingsDep",
    "bearer_token",
    "client_address",
]

_bearer = HTTPBearer(auto_error=False, description="operator or volunteer token")

# Dependencies are `async def` even when they do not await: FastAPI runs a plain `def` one in
# its thread pool: a hop, and a wait for a free thread, on every request.


async def _settings(request: Request) -> Settings:
    return request.app.state.settings


async def _db(request: Request) -> Database:
    return request.app.state.db


async def _router(request: Request) -> Router:
    router = request.app.state.router
    if router is None:
        raise Unavailable("no walking graph is loaded in this service")
    return router


async def _route_drawer(
    request: Request, router: Annotated[Router, Depends(_router)]
) -> RouteDrawer:
    return request.app.state.route_drawer


async def _dispatch_context(
    request: Request, router: Annotated[Router, Depends(_router)]
) -> DispatchContext:
    return request.app.state.dispatch_context


async def _event_hub(request: Request) -> EventHub:
    return request.app.state.event_hub


async def _token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    if credentials is None or not credentials.credentials:
        raise Unauthorized("a bearer token is required")
    return credentials.credentials


def bearer_token(request: Request) -> str:
    """The token of an `Authorization: Bearer` header, for routes that skip dependencies."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("a bearer token is required")
    return token.strip()


async def _limits(request: Request) -> Limits:
    return request.app.state.limits


def client_address(request: Request) -> str:
    """The client's address: the peer's, or the one trusted proxies forwarded
    (EHBO_API_TRUSTED_PROXIES, see `responders.api.clients`)."""
    return request.app.state.clients.address(request)


SettingsDep = Annotated[Settings, Depends(_settings)]
# Ids are PostgreSQL bigints: anything outside is "not found" territory, refused up front.
PathId = Annotated[int, Path(ge=1, le=2**63 - 1)]
# The one way to the database (`responders.db.gateway`); stores open their own transactions,
# so nothing commits after the answer is sent.
DbDep = Annotated[Database, Depends(_db)]
RouterDep = Annotated[Router, Depends(_router)]
RouteDrawerDep = Annotated[RouteDrawer, Depends(_route_drawer)]
LimitsDep = Annotated[Limits, Depends(_limits)]
DispatchContextDep = Annotated[DispatchContext, Depends(_dispatch_context)]
EventHubDep = Annotated[EventHub, Depends(_event_hub)]
BearerToken = Annotated[str, Depends(_token)]


async def _current_responder(db: DbDep, token: BearerToken) -> int:
    return await authenticate_responder(db, token)


async def _current_operator(db: DbDep, token: BearerToken) -> OperatorPrincipal:
    return await authenticate_operator(db, token)


async def _current_coordinator(db: DbDep, token: BearerToken) -> OperatorPrincipal:
    operator = await authenticate_operator(db, token, role="coordinator")
    return require_role(operator, "coordinator")


CurrentResponder = Annotated[int, Depends(_current_responder)]
CurrentOperator = Annotated[OperatorPrincipal, Depends(_current_operator)]
CurrentCoordinator = Annotated[OperatorPrincipal, Depends(_current_coordinator)]


async def _any_caller(db: DbDep, token: BearerToken) -> OperatorPrincipal | int:
    """An operator, or a volunteer (by id): for routes both may use."""
    return await authenticate_any(db, token)


AnyCaller = Annotated[OperatorPrincipal | int, Depends(_any_caller)]
