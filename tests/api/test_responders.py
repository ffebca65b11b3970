"""The volunteer registry through the API, on the real PostGIS."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from responders.api import create_app
from responders.settings import DatabaseSettings, Settings
from tests.conftest import embedded_cluster

FUTURE = (dt.date.today() + dt.timedelta(days=365)).isoformat()


def volunteer(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Aino Virtanen",
        "phone": "+358 40 123 4567",
        "email": "aino@example.org",
        "qualifications": [{"kind": "cpr_aed", "expires_on": FUTURE}],
        "places": [
            {
                "kind": "home",
                "location": {"lat": 60.1699, "lon": 24.9384},
                "windows": [
                    {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "18:00", "end": "08:00"}
                ],
            }
        ],
        "device": {"fcm_token": "tok-aino-1", "platform": "android"},
    }
    body.update(overrides)
    return body


async def register(
    client: httpx.AsyncClient, **overrides: Any
) -> tuple[dict[str, Any], dict[str, str]]:
    response = await client.post("/responders", json=volunteer(**overrides))
    assert response.status_code == 201, response.text
    body = response.json()
    return body["responder"], {"Authorization": f"Bearer {body['token']}"}


async def test_register_returns_profile_and_token_stored_hashed(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    responder, headers = await register(client)
    assert responder["name"] == "Aino Virtanen"
    assert responder["qualifications"] == [{"kind": "cpr_aed", "expires_on": FUTURE}]
    assert responder["places"][0]["location"] == {
        "type": "Point",
        "coordinates": [24.9384, 60.1699],
    }
    assert responder["devices"][0]["fcm_token"] == "tok-aino-1"
    token = headers["Authorization"].removeprefix("Bearer ")
    async with engine.connect() as conn:
        stored = (await conn.execute(text("SELECT token_hash FROM responder_tokens"))).scalar_one()
    assert token.encode() not in stored and len(stored) == 32

    me = await client.get("/responders/me", headers=headers)
    assert me.status_code == 200 and me.json()["id"] == responder["id"]


async def test_overnight_window_is_stored_as_minutes_of_week(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await register(
        client,
        places=[
            {
                "kind": "home",
                "location": {"lat": 60.17, "lon": 24.94},
                "windows": [{"days": ["sun"], "start": "22:00", "end": "06:00"}],
            }
        ],
    )
    async with engine.connect() as conn:
        available = (await conn.execute(text("SELECT available::text FROM places"))).scalar_one()
    # Sunday 22:00 to midnight, then Monday 00:00 to 06:00 of the next week.
    assert available == "{[0,360),[9960,10080)}"


async def test_duplicate_email_is_a_conflict(client: httpx.AsyncClient) -> None:
    await register(client)
    response = await client.post("/responders", json=volunteer(email="AINO@example.org"))
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"


async def test_profile_update_replaces_lists(client: httpx.AsyncClient) -> None:
    _, headers = await register(client)
    response = await client.patch(
        "/responders/me",
        headers=headers,
        json={
            "phone": "+358 50 765 4321",
            "qualifications": [
                {"kind": "nurse", "expires_on": FUTURE},
                {"kind": "first_aid", "expires_on": FUTURE},
            ],
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["phone"] == "+358507654321"  # stored in E.164 (issue 12 #20)
    assert [q["kind"] for q in body["qualifications"]] == ["first_aid", "nurse"]
    assert len(body["places"]) == 1


async def test_live_location_is_one_row_overwritten(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    _, headers = await register(client)
    for lat in (60.1700, 60.1710, 60.1720):
        response = await client.put(
            "/responders/me/location",
            headers=headers,
            json={"lat": lat, "lon": 24.94, "accuracy_m": 12},
        )
        assert response.status_code == 204, response.text
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text("SELECT ST_Y(location::geometry), accuracy_m FROM live_locations")
            )
        ).all()
    assert rows == [(pytest.approx(60.1720), 12.0)]
    me = (await client.get("/responders/me", headers=headers)).json()
    assert me["live_location"]["location"]["coordinates"] == [24.94, 60.172]


async def test_location_update_with_bad_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.put(
        "/responders/me/location",
        headers={"Authorization": "Bearer nope"},
        json={"lat": 60.17, "lon": 24.94, "accuracy_m": 5},
    )
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


async def test_pause_and_resume(client: httpx.AsyncClient) -> None:
    _, headers = await register(client)
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)).isoformat()
    paused = await client.put(
        "/responders/me/availability", headers=headers, json={"paused_until": until}
    )
    assert paused.status_code == 200, paused.text
    assert paused.json()["status"] == "paused" and paused.json()["paused_until"]
    resumed = await client.put(
        "/responders/me/availability", headers=headers, json={"status": "active"}
    )
    assert resumed.json()["status"] == "active" and resumed.json()["paused_until"] is None


async def test_pause_in_the_past_is_refused(client: httpx.AsyncClient) -> None:
    _, headers = await register(client)
    response = await client.put(
        "/responders/me/availability",
        headers=headers,
        json={"paused_until": "2020-01-01T00:00:00Z"},
    )
    assert response.status_code == 422
    assert response.json()["field"] == "body.paused_until"


async def test_availability_replaces_places_windows(client: httpx.AsyncClient) -> None:
    _, headers = await register(client)
    response = await client.put(
        "/responders/me/availability",
        headers=headers,
        json={
            "places": [
                {
                    "kind": "work",
                    "location": {"lat": 60.165, "lon": 24.938},
                    "windows": [{"days": ["mon"], "start": "09:00", "end": "17:00"}],
                },
            ]
        },
    )
    assert response.status_code == 200
    places = response.json()["places"]
    assert [p["kind"] for p in places] == ["work"]
    assert places[0]["windows"] == [{"days": ["mon"], "start": "09:00", "end": "17:00"}]


async def test_a_device_another_volunteer_holds_moves_only_after_they_sign_out(
    client: httpx.AsyncClient,
) -> None:
    """Naming someone's FCM token proves nothing: it must not take their alerts away."""
    _, first = await register(client)
    _, second = await register(client, email="eero@example.org", device=None)
    device = {"fcm_token": "tok-aino-1", "platform": "ios"}
    taken = await client.post("/responders/me/devices", headers=second, json=device)
    assert taken.status_code == 409
    assert taken.json()["detail"].startswith("this device is registered to another volunteer")
    held = (await client.get("/responders/me", headers=first)).json()["devices"]
    assert [(d["fcm_token"], d["platform"]) for d in held] == [("tok-aino-1", "android")]
    # Registering it with a new account is no way round.
    again = await client.post("/responders", json=volunteer(email="third@example.org"))
    assert again.status_code == 409
    assert (await client.post("/responders/me/logout", headers=first)).status_code == 204
    moved = await client.post("/responders/me/devices", headers=second, json=device)
    assert moved.status_code == 201
    devices = (await client.get("/responders/me", headers=second)).json()["devices"]
    assert [(d["fcm_token"], d["platform"]) for d in devices] == [("tok-aino-1", "ios")]


async def test_own_device_registered_again_is_updated(client: httpx.AsyncClient) -> None:
    _, headers = await register(client)
    device = {"fcm_token": "tok-aino-1", "platform": "web"}
    assert (await client.post("/responders/me/devices", headers=headers, json=device)).is_success
    devices = (await client.get("/responders/me", headers=headers)).json()["devices"]
    assert [(d["fcm_token"], d["platform"]) for d in devices] == [("tok-aino-1", "web")]


async def test_an_erased_volunteer_s_device_is_free(client: httpx.AsyncClient) -> None:
    _, first = await register(client)
    _, second = await register(client, email="eero@example.org", device=None)
    assert (await client.delete("/responders/me", headers=first)).status_code == 204
    device = {"fcm_token": "tok-aino-1", "platform": "android"}
    assert (await client.post("/responders/me/devices", headers=second, json=device)).is_success


async def test_email_changes_are_limited_per_volunteer(
    settings: Settings, helsinki_router: Any, clean_db: Any
) -> None:
    """A 409 tells whether an address is registered: trying address after address stops."""
    limits = settings.limits.model_copy(
        update={"enabled": True, "email_changes_per_volunteer_per_day": 2}
    )
    limited = create_app(settings.model_copy(update={"limits": limits}), router=helsinki_router)
    async with (
        limited.router.lifespan_context(limited),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=limited), base_url="http://t") as http,
    ):
        await register(http)
        _, prober = await register(http, email="prober@example.org", device=None)
        tries = [
            await http.patch("/responders/me", headers=prober, json={"email": email})
            for email in ("aino@example.org", "AINO@example.org", "nobody@example.org")
        ]
        assert [t.status_code for t in tries] == [409, 409, 429]
        assert tries[2].json()["code"] == "rate_limited" and tries[2].headers["Retry-After"]
        # Other changes, and giving back one's own address, cost nothing.
        unchanged = {"name": "Prober", "email": "PROBER@example.org"}
        for _ in range(3):
            kept = await http.patch("/responders/me", headers=prober, json=unchanged)
            assert kept.status_code == 200, kept.text
        # Limited per volunteer: another one may still change theirs.
        _, other = await register(http, email="other@example.org", device=None)
        changed = await http.patch(
            "/responders/me", headers=other, json={"email": "o2@example.org"}
        )
        assert changed.json()["email"] == "o2@example.org"


async def test_a_taken_email_leaves_no_trace_in_the_database_log(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    """PostgreSQL logs a unique violation with the key ("Key (lower(email))=(...)"): the
    writes of an address must never raise one."""
    if DatabaseSettings().url:
        pytest.skip("the server's log is readable only for the embedded cluster")
    email = f"probe-{uuid.uuid4().hex[:10]}@example.org"
    await register(client, email=email, device=None)
    assert (await client.post("/responders", json=volunteer(email=email))).status_code == 409
    _, other = await register(client, email=f"x-{email}", device=None)
    changed = await client.patch("/responders/me", headers=other, json={"email": email.upper()})
    assert changed.status_code == 409
    log = embedded_cluster().log_file
    marker = f"log-marker-{uuid.uuid4().hex}"
    async with engine.connect() as conn:  # a line of our own ends what those writes logged
        await conn.execute(text(f"DO $$ BEGIN RAISE WARNING '{marker}'; END $$"))
    for _ in range(50):
        written = log.read_text(errors="replace")
        if marker in written:
            break
        await asyncio.sleep(0.1)
    assert marker in written
    assert email not in written.lower()


async def test_erase_leaves_nothing_of_the_person(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    responder, headers = await register(client)
    await client.put(
        "/responders/me/location",
        headers=headers,
        json={"lat": 60.17, "lon": 24.94, "accuracy_m": 5},
    )
    _, other = await register(client, name="Eero Mäkinen", email="eero@example.org", device=None)
    assert (await client.delete("/responders/me", headers=headers)).status_code == 204
    assert (await client.get("/responders/me", headers=headers)).status_code == 401
    async with engine.connect() as conn:
        for table in (
            "responders",
            "responder_tokens",
            "qualifications",
            "places",
            "live_locations",
            "devices",
        ):
            column = "id" if table == "responders" else "responder_id"
            count = (
                await conn.execute(
                    text(f"SELECT count(*) FROM {table} WHERE {column} = :id"),
                    {"id": responder["id"]},
                )
            ).scalar_one()
            assert count == 0, table
        dump = (
            await conn.execute(
                text("SELECT string_agg(t::text, ' ') FROM (SELECT * FROM responders) t")
            )
        ).scalar_one()
    assert "Aino" not in dump and "aino@example.org" not in dump
    assert (await client.get("/responders/me", headers=other)).status_code == 200


# ---------- issue 12 #18: places and qualifications never lost or wrong without a word ----------


@pytest.mark.parametrize("route", ["register", "profile"])
async def test_expired_qualification_is_422_naming_it(
    client: httpx.AsyncClient, engine: AsyncEngine, route: str
) -> None:
    expired = [
        {"kind": "first_aid", "expires_on": FUTURE},
        {"kind": "cpr_aed", "expires_on": "2020-03-31"},
    ]
    if route == "register":
        response = await client.post("/responders", json=volunteer(qualifications=expired))
    else:
        _, headers = await register(client)
        response = await client.patch(
            "/responders/me", headers=headers, json={"qualifications": expired}
        )
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["field"] == "body.qualifications.1.expires_on"
    assert body["errors"][0]["message"] == (
        "This qualification expired on 2020-03-31: you would not be alerted with it. "
        "Renew it and enter the new date."
    )
    async with engine.connect() as conn:
        kinds = await conn.execute(text("SELECT kind FROM qualifications ORDER BY kind"))
        assert kinds.scalars().all() == ([] if route == "register" else ["cpr_aed"])


@pytest.mark.parametrize(
    ("place", "field", "message"),
    [
        ({"kind": "home", "label": "Mannerheimintie 5"}, "body.places.0.location", "required"),
        (
            {
                "kind": "home",
                "location": {"lat": 60.17, "lon": 24.94},
                "windows": [{"days": [], "start": "18:00", "end": "22:00"}],
            },
            "body.places.0.windows.0.days",
            "Choose at least one day for these hours.",
        ),
    ],
    ids=["address-only", "times-without-days"],
)
async def test_place_that_cannot_be_kept_is_422_naming_it(
    client: httpx.AsyncClient, place: dict[str, Any], field: str, message: str
) -> None:
    _, headers = await register(client)
    response = await client.put(
        "/responders/me/availability", headers=headers, json={"places": [place]}
    )
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert message in response.json()["errors"][0]["message"]
    me = (await client.get("/responders/me", headers=headers)).json()
    assert [p["kind"] for p in me["places"]] == ["home"]  # the stored place is untouched
