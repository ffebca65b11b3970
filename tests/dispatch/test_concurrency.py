"""The busy rule under concurrency: two incidents dispatched at the same moment, by two
processes, near each other, never share a volunteer (DESIGN.md §4)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from responders.api import create_app
from responders.dispatch.timers import run_due_timers
from responders.settings import Settings
from routing import Router
from tests.helpers import INCIDENT, dispatch_settings, offset, place_volunteer

WAVE = 10
ROUNDS = 3
# Two reports 200 m apart, and three waves' worth of volunteers around the point between
# them: each incident's nearest volunteers are largely the other's too.
SPOTS = (INCIDENT, offset(*INCIDENT, 0, 200))
AROUND = [(north, east) for north in (-120, -40, 40, 120) for east in range(-60, 300, 48)]

_DOUBLE_BOOKED = text(
    """
    SELECT a.responder_id FROM alerts a JOIN incidents i ON i.id = a.incident_id
    WHERE a.status IN ('queued', 'sent', 'delivered', 'accepted', 'arrived')
      AND i.status IN ('triage', 'active')
    GROUP BY a.responder_id HAVING count(*) > 1
    """
)
_OWED = text(
    """
    SELECT i.id, i.replacements_due, count(a.id) AS alerted
    FROM incidents i LEFT JOIN alerts a ON a.incident_id = i.id
    WHERE i.id = ANY(:ids) GROUP BY i.id ORDER BY i.id
    """
)
# Waiting for the outbox: a write of a wave that has read and planned everything.
_WAITING_WRITES = text(
    """
    SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
    WHERE c.relname = 'outbox' AND NOT l.granted
    """
)


@pytest.mark.parametrize("how", ["reported", "confirmed"])
async def test_simultaneous_dispatches_never_share_a_volunteer(
    how: str,
    settings: Settings,
    helsinki_router: Router,
    clean_db: AsyncEngine,
    operator_headers: dict[str, str],
) -> None:
    configured = settings.model_copy(
        update={"dispatch": dispatch_settings(wave_size=WAVE, daily_alert_cap=100)}
    )
    async with (
        _serving(configured, helsinki_router, operator_headers) as (app, one),
        _serving(configured, helsinki_router, operator_headers) as (_, two),
    ):
        for north, east in AROUND:
            await place_volunteer(one, *offset(*INCIDENT, north, east))
        assert len(AROUND) >= 3 * WAVE
        for _ in range(ROUNDS):
            ids = await _dispatch_at_once(clean_db, one, two, how)
            async with clean_db.connect() as conn:
                assert list((await conn.execute(_DOUBLE_BOOKED)).scalars()) == []
                owed = (await conn.execute(_OWED, {"ids": ids})).all()
            # What a wave lost to the other is owed as replacements, never dropped ...
            assert [row.alerted + row.replacements_due for row in owed] == [WAVE, WAVE]
            assert sum(row.replacements_due for row in owed) > 0, "the waves did race"
            # ... and the timers top the loser's wave up at once, still from free volunteers.
            await run_due_timers(app.state.db, app.state.dispatch_context)
            async with clean_db.connect() as conn:
                assert list((await conn.execute(_DOUBLE_BOOKED)).scalars()) == []
                owed = (await conn.execute(_OWED, {"ids": ids})).all()
            assert [(row.alerted, row.replacements_due) for row in owed] == [(WAVE, 0), (WAVE, 0)]
            for incident_id in ids:
                closed = await one.post(
                    f"/incidents/{incident_id}/close", json={"reason": "ems_took_over"}
                )
                assert closed.status_code == 200


async def _dispatch_at_once(
    engine: AsyncEngine, one: httpx.AsyncClient, two: httpx.AsyncClient, how: str
) -> list[int]:
    """Both incidents alerted through both apps at once, and held at their writes until
    both have read and planned: the moment two processes race, made certain, not likely.
    (A lock on the outbox delays only the writes: a wave's reads never touch it.)
    `how`: reported by operators (a first wave, one autocommit statement), or confirmed
    citizens' reports (a wave in a transaction)."""
    if how == "confirmed":
        ids = [await _citizen_report(one, *spot) for spot in SPOTS]
    async with engine.connect() as gate:
        await gate.execute(text("LOCK TABLE outbox IN SHARE MODE"))
        if how == "confirmed":
            posted = asyncio.gather(
                *(
                    http.post(f"/incidents/{i}/confirm", headers=http.headers)
                    for http, i in zip((one, two), ids, strict=True)
                )
            )
        else:
            posted = asyncio.gather(
                *(
                    http.post("/incidents", headers=http.headers, json=_incident(*spot))
                    for http, spot in zip((one, two), SPOTS, strict=True)
                )
            )
        await _until_writes_wait(engine, 2)
        await gate.rollback()
    answers = await posted
    assert [a.status_code for a in answers] == [{"confirmed": 200}.get(how, 201)] * 2
    return sorted(a.json()["id"] for a in answers)


def _incident(lat: float, lon: float) -> dict[str, Any]:
    return {"kind": "cardiac_arrest", "location": {"lat": lat, "lon": lon}}


async def _citizen_report(http: httpx.AsyncClient, lat: float, lon: float) -> int:
    response = await http.post("/reports", json=_incident(lat, lon))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def _until_writes_wait(engine: AsyncEngine, writes: int) -> None:
    async with engine.connect() as conn:
        for _ in range(400):
            if (await conn.execute(_WAITING_WRITES)).scalar_one() >= writes:
                return
            await conn.rollback()
            await asyncio.sleep(0.025)
    raise AssertionError(f"{writes} dispatches never reached their writes")


@contextlib.asynccontextmanager
async def _serving(
    settings: Settings,
    router: Router,
    headers: dict[str, str],
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """An app of its own, as a second process would be: its own pools, its own dispatcher;
    its client is an operator's."""
    app = create_app(settings, router=router)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t", headers=headers
        ) as http,
    ):
        yield app, http
