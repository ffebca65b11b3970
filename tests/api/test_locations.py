"""Live locations written in groups: each phone still gets its own, correct answer."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from responders.security import hash_token, new_token
from tests.api.test_responders import register


async def test_concurrent_updates_share_a_group_but_not_an_answer(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    people = [await register(client, email=f"g{n}@example.org", device=None) for n in range(8)]
    bogus = {"Authorization": "Bearer ehbo_rs_forged"}
    calls = [
        client.put(
            "/responders/me/location",
            headers=headers,
            json={"lat": 60.17 + n / 1000, "lon": 24.94, "accuracy_m": 5},
        )
        for n, (_, headers) in enumerate(people)
    ]
    calls.append(
        client.put(
            "/responders/me/location",
            headers=bogus,
            json={"lat": 60.17, "lon": 24.94, "accuracy_m": 5},
        )
    )
    answers = await asyncio.gather(*calls)
    assert [r.status_code for r in answers] == [204] * 8 + [401]
    async with engine.connect() as conn:
        rows: dict[int, float] = dict(
            (
                await conn.execute(
                    text(
                        "SELECT responder_id, round(ST_Y(location::geometry)::numeric, 3)::float8 "
                        "FROM live_locations"
                    )
                )
            ).all()
        )
    assert {rows[p["id"]] for p, _ in people} == {round(60.17 + n / 1000, 3) for n in range(8)}


async def test_two_devices_of_one_volunteer_in_one_group(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    profile, phone = await register(client)
    # A second token for the same volunteer, as a second registered device holds one.
    tablet = new_token("rs")
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO responder_tokens (responder_id, token_hash) VALUES (:id, :h)"),
            {"id": profile["id"], "h": hash_token(tablet)},
        )
    answers = await asyncio.gather(
        *(
            client.put(
                "/responders/me/location",
                headers=headers,
                json={"lat": 60.171, "lon": 24.941, "accuracy_m": 5},
            )
            for headers in (phone, {"Authorization": f"Bearer {tablet}"})
        )
    )
    assert [r.status_code for r in answers] == [204, 204]
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT responder_id FROM live_locations"))).scalars()
        assert list(rows) == [profile["id"]]
