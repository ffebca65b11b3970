"""Volunteer self-service: `/responders` and `/responders/me/...`."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import TypeAdapter

from responders.api.body import (
    json_body,
    json_body_schema,
    tagged_json_body,
    tagged_json_body_schema,
)
from responders.api.deps import (
    BearerToken,
    CurrentResponder,
    DbDep,
    LimitsDep,
    PathId,
    RouterDep,
    SettingsDep,
    bearer_token,
    client_address,
)
from responders.auth import refuse
from responders.coverage import require_walkable_all
from responders.dispatch import views
from responders.errors import Unauthorized
from responders.registry import responders as registry
from responders.schemas.responders import (
    AvailabilityUpdate,
    DeviceCreate,
    DevicePublic,
    LocationUpdate,
    PlaceIn,
    ResponderCreate,
    ResponderPublic,
    ResponderRegistered,
    ResponderUpdate,
)

__all__ = ["router"]

router = APIRouter(prefix="/responders", tags=["volunteers"])


def _walkable(graph: RouterDep, places: list[PlaceIn] | None) -> None:
    """A home in the harbour would never be alerted: refused, naming the place."""
    located = ((f"body.places.{n}.location", p.location) for n, p in enumerate(places or []))
    require_walkable_all(graph, located, "this place")


@router.post("", status_code=201)
async def register(
    data: ResponderCreate,
    db: DbDep,
    limits: LimitsDep,
    request: Request,
    graph: RouterDep,
) -> ResponderRegistered:
    limits.registration(client_address(request))
    _walkable(graph, data.places)
    async with limits.registration_slot():
        responder, token = await registry.register_responder(db, data)
    return ResponderRegistered(responder=responder, token=token)


@router.get("/me")
async def read_me(me: CurrentResponder, db: DbDep) -> ResponderPublic:
    return await registry.get_responder(db, me)


@router.patch("/me")
async def update_me(
    data: ResponderUpdate,
    me: CurrentResponder,
    db: DbDep,
    limits: LimitsDep,
    graph: RouterDep,
) -> ResponderPublic:
    """Changes of e-mail address are limited per volunteer: a 409 tells whether an address
    is registered, so unlimited tries would list who volunteers."""
    _walkable(graph, data.places)
    return await registry.update_responder(
        db, me, data, on_email_change=lambda: limits.email_change(me)
    )


@router.delete("/me", status_code=204)
async def erase_me(me: CurrentResponder, db: DbDep) -> Response:
    await registry.erase_responder(db, me)
    return Response(status_code=204)


@router.get("/me/export")
async def export_me(
    me: CurrentResponder, db: DbDep, settings: SettingsDep, request: Request
) -> dict[str, Any]:
    """Everything the service holds about the caller (right of access)."""
    profile = await registry.get_responder(db, me)
    # The same view as GET /alerts: an export never shows more than the alerts do.
    alerts = await views.alerts_for_responder(
        db, me, address_after_accept=settings.api.address_after_accept
    )
    return {
        "exported_at": dt.datetime.now(dt.UTC),
        "profile": profile.model_dump(mode="json"),
        "alerts": [a.model_dump(mode="json") for a in alerts],
        "tokens": [dataclasses.asdict(use) for use in await registry.token_history(db, me)],
    }


@router.post("/me/logout", status_code=204)
async def logout(db: DbDep, token: BearerToken, _: CurrentResponder) -> Response:
    """Revoke the token of this device."""
    await registry.revoke_token(db, token)
    return Response(status_code=204)


@router.put(
    "/me/location",
    status_code=204,
    openapi_extra=json_body_schema(LocationUpdate),
    responses={401: {"description": "no or a bad token"}, 422: {"description": "bad input"}},
)
async def update_location(request: Request, limits: LimitsDep) -> Response:
    """Overwrite the live location. The hottest write: one statement, body parsed by hand."""
    data, token = await json_body(request, LocationUpdate), bearer_token(request)
    limits.location_update(token)
    try:
        await request.app.state.locations.write(token, data)
    except Unauthorized:  # 403 instead when it is an operator's token
        await refuse(request.app.state.db, token, "volunteer")
    return Response(status_code=204)


@router.put("/me/availability")
async def update_availability(
    data: AvailabilityUpdate, me: CurrentResponder, db: DbDep, graph: RouterDep
) -> ResponderPublic:
    _walkable(graph, data.places)
    return await registry.set_availability(db, me, data, dt.datetime.now(dt.UTC))


_DEVICE_BODY: TypeAdapter[DeviceCreate] = TypeAdapter(DeviceCreate)


@router.post(
    "/me/devices",
    status_code=201,
    openapi_extra=tagged_json_body_schema(_DEVICE_BODY),
    responses={
        409: {"description": "another volunteer holds it"},
        422: {"description": "bad input"},
    },
)
async def add_device(
    request: Request, me: CurrentResponder, token: BearerToken, db: DbDep, settings: SettingsDep
) -> DevicePublic:
    """An FCM token (`kind` "fcm" or absent), or a Web Push subscription as the browser's
    `PushSubscription.toJSON()` gives it (`kind` "webpush"). Registering one again returns the
    same device; a device another volunteer holds is 409 until they sign out of the app on it."""
    data = await tagged_json_body(request, _DEVICE_BODY)
    allow_loopback = settings.webpush.allow_loopback
    return await registry.add_device(db, me, token, data, allow_loopback=allow_loopback)


@router.delete("/me/location", status_code=204)
async def stop_sharing_location(me: CurrentResponder, db: DbDep) -> Response:
    """The volunteer switched location sharing off: their live point goes at once, not
    when it would have expired. The app sends this only after its last PUT has answered,
    so no update still in flight can put the point back."""
    await registry.stop_sharing_location(db, me)
    return Response(status_code=204)


@router.delete(
    "/me/devices/{device_id}",
    status_code=204,
    responses={404: {"description": "no such device of mine (another's is 404 too)"}},
)
async def remove_device(device_id: PathId, me: CurrentResponder, db: DbDep) -> Response:
    """Unregister one of my devices: it gets no more alerts."""
    await registry.remove_device(db, me, device_id)
    return Response(status_code=204)
