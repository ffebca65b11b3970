"""Volunteers: their own alerts, and their answers to them."""

from __future__ import annotations

from fastapi import APIRouter

from responders.api.deps import (
    CurrentResponder,
    DbDep,
    DispatchContextDep,
    PathId,
    RouteDrawerDep,
    SettingsDep,
)
from responders.dispatch import lifecycle, views
from responders.routes import fill_alert_routes
from responders.schemas.incidents import AlertAnswered, AlertPublic
from responders.states import AlertAction

__all__ = ["router"]

router = APIRouter(prefix="/alerts", tags=["alerts"])


@router.get("")
async def list_mine(me: CurrentResponder, db: DbDep, settings: SettingsDep) -> list[AlertPublic]:
    return await views.alerts_for_responder(
        db, me, address_after_accept=settings.api.address_after_accept
    )


@router.get("/{alert_id}")
async def read_mine(
    alert_id: PathId,
    me: CurrentResponder,
    db: DbDep,
    graph: RouteDrawerDep,
    settings: SettingsDep,
) -> AlertPublic:
    # Its route is drawn where it is first read (`fill_alert_routes`), not by the wave.
    await fill_alert_routes(db, graph, [alert_id])
    return await views.alert_for_responder(
        db, me, alert_id, address_after_accept=settings.api.address_after_accept
    )


async def _answer(
    db: DbDep, context: DispatchContextDep, me: int, alert_id: PathId, action: AlertAction
) -> AlertAnswered:
    # An answer may meet a cancel or the push worker in a lock cycle: retried whole (db.retry).
    status = await db.run(lambda conn: lifecycle.alert_action(conn, context, me, alert_id, action))
    return AlertAnswered(id=alert_id, status=status)


@router.post("/{alert_id}/delivered")
async def delivered(
    alert_id: PathId, me: CurrentResponder, db: DbDep, context: DispatchContextDep
) -> AlertAnswered:
    return await _answer(db, context, me, alert_id, AlertAction.DELIVERED)


@router.post("/{alert_id}/accept")
async def accept(
    alert_id: PathId, me: CurrentResponder, db: DbDep, context: DispatchContextDep
) -> AlertAnswered:
    return await _answer(db, context, me, alert_id, AlertAction.ACCEPT)


@router.post("/{alert_id}/decline")
async def decline(
    alert_id: PathId, me: CurrentResponder, db: DbDep, context: DispatchContextDep
) -> AlertAnswered:
    return await _answer(db, context, me, alert_id, AlertAction.DECLINE)


@router.post("/{alert_id}/arrived")
async def arrived(
    alert_id: PathId, me: CurrentResponder, db: DbDep, context: DispatchContextDep
) -> AlertAnswered:
    return await _answer(db, context, me, alert_id, AlertAction.ARRIVED)
