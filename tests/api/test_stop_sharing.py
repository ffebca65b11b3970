"""Issue 15: a volunteer who stops sharing their location has no live point left."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api.test_responders import register


async def _live_points(engine: AsyncEngine) -> list[int]:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT responder_id FROM live_locations ORDER BY 1"))
        return list(rows.scalars())


async def test_delete_removes_only_my_live_point(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    me, mine = await register(client, email="me@example.org", device=None)
    other, theirs = await register(client, email="other@example.org", device=None)
    for headers in (mine, theirs):
        put = await client.put(
            "/responders/me/location",
            headers=headers,
            json={"lat": 60.171, "lon": 24.941, "accuracy_m": 5},
        )
        assert put.status_code == 204, put.text
    assert (await client.get("/responders/me", headers=mine)).json()["live_location"] is not None

    gone = await client.delete("/responders/me/location", headers=mine)
    assert gone.status_code == 204, gone.text
    assert await _live_points(engine) == [other["id"]]
    assert (await client.get("/responders/me", headers=mine)).json()["live_location"] is None
    # Stopping twice (two taps, a retried request) is the same as once.
    again = await client.delete("/responders/me/location", headers=mine)
    assert again.status_code == 204
    assert me["id"] not in await _live_points(engine)


async def test_delete_needs_a_volunteer_token(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    anonymous = await client.delete("/responders/me/location")
    assert anonymous.status_code == 401
    operator = await client.delete("/responders/me/location", headers=operator_headers)
    assert operator.status_code == 403
