"""Volunteers: their own alerts, and their answers to them."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from responders.api.deps import (
    CurrentResponder,
    DispatchContextDep,
    PathId,
    RouteDrawerDep,
    SettingsDep,
)
from responders.db.retry import in_transaction
from responders.dispatch import lifecycle, views
from responders.schemas.incidents import AlertPublic
from responders.states import AlertAction, AlertStatus

__all__ = ["router"]

router = APIRouter(prefix="/alerts", tags=["alerts"])


class AlertAnswered(BaseModel):
    id: int
    status: AlertStatus


@router.get("")
async def list_mine(
    me: CurrentResponder, request: Request, settings: SettingsDep
) -> list[AlertPublic]:
    async with request.app.state.engine.connect() as conn:
        return await views.alerts_for_responder(
            conn, me, address_after_accept=settings.api.address_after_accept
        )


@router.get("/{alert_id}")
async def read_mine(
    alert_id: PathId,
    me: CurrentResponder,
    request: Request,
    graph: RouteDrawerDep,
    settings: SettingsDep,
) -> AlertPublic:
    async with request.app.state.engine.connect() as conn:
        return await views.alert_for_responder(
            conn, graph, me, alert_id, address_after_accept=settings.api.address_after_accept
        )


async def _answer(
    request: Request,
    context: DispatchContextDep,
    me: int,
    alert_id: PathId,
    action: AlertAction,
) -> AlertAnswered:
    # An answer may meet a cancel or the push worker in a lock cycle: retried whole (db.retry).
    status = await in_transaction(
        request.app.state.engine,
        lambda conn: lifecycle.alert_action(conn, context, me, alert_id, action),
    )
    return AlertAnswered(id=alert_id, status=status)


@router.post("/{alert_id}/delivered")
async def delivered(
    alert_id: PathId, me: CurrentResponder, request: Request, context: DispatchContextDep
) -> AlertAnswered:
    return await _answer(request, context, me, alert_id, AlertAction.DELIVERED)


@router.post("/{alert_id}/accept")
async def accept(
    alert_id: PathId, me: CurrentResponder, request: Request, context: DispatchContextDep
) -> AlertAnswered:
    return await _answer(request, context, me, alert_id, AlertAction.ACCEPT)


@router.post("/{alert_id}/decline")
async def decline(
    alert_id: PathId, me: CurrentResponder, request: Request, context: DispatchContextDep
) -> AlertAnswered:
    return await _answer(request, context, me, alert_id, AlertAction.DECLINE)


@router.post("/{alert_id}/arrived")
async def arrived(
    alert_id: PathId, me: CurrentResponder, request: Request, context: DispatchContextDep
) -> AlertAnswered:
    return await _answer(request, context, me, alert_id, AlertAction.ARRIVED)
