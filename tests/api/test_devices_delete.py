"""Removing one of my devices (issue 15): `DELETE /responders/me/devices/{id}`. Mine goes;
another volunteer's is "not found" exactly like an id that does not exist, and stays."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.helpers import place_volunteer


async def _devices(client: httpx.AsyncClient, headers: dict[str, str]) -> list[int]:
    me = await client.get("/responders/me", headers=headers)
    assert me.status_code == 200, me.text
    return [d["id"] for d in me.json()["devices"]]


async def _stored(engine: AsyncEngine, device_id: int) -> bool:
    async with engine.connect() as conn:
        found = await conn.execute(text("SELECT 1 FROM devices WHERE id = :id"), {"id": device_id})
        return found.first() is not None


async def test_my_device_is_removed(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    _, headers = await place_volunteer(client, 60.1744, 24.9445)
    second = {"fcm_token": "second-phone", "platform": "ios"}
    added = await client.post("/responders/me/devices", headers=headers, json=second)
    assert added.status_code == 201, added.text
    first, other = await _devices(client, headers)

    removed = await client.delete(f"/responders/me/devices/{first}", headers=headers)
    assert removed.status_code == 204, removed.text
    assert removed.content == b""
    assert await _devices(client, headers) == [other]
    assert not await _stored(engine, first)
    # Gone is gone: a second try is "not found".
    again = await client.delete(f"/responders/me/devices/{first}", headers=headers)
    assert again.status_code == 404


async def test_another_volunteers_device_is_not_found_and_stays(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    _, mine = await place_volunteer(client, 60.1744, 24.9445)
    _, theirs = await place_volunteer(client, 60.1700, 24.9400)
    [their_device] = await _devices(client, theirs)

    refused = await client.delete(f"/responders/me/devices/{their_device}", headers=mine)
    assert refused.status_code == 404, refused.text
    assert await _stored(engine, their_device)
    assert await _devices(client, theirs) == [their_device]
    # The same answer as for a device that never existed: nothing tells that it is someone's.
    unknown = await client.delete(f"/responders/me/devices/{their_device + 1000}", headers=mine)
    assert unknown.status_code == 404
    assert unknown.json() == refused.json()


async def test_removing_needs_a_valid_volunteer_token(client: httpx.AsyncClient) -> None:
    _, headers = await place_volunteer(client, 60.1744, 24.9445)
    [device] = await _devices(client, headers)
    assert (await client.delete(f"/responders/me/devices/{device}")).status_code == 401
    out = await client.delete("/responders/me/devices/0", headers=headers)
    assert out.status_code == 422  # ids start at 1
    assert await _devices(client, headers) == [device]
