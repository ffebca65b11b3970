"""Bad input is a 422 that names the field and writes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api.test_responders import register, volunteer


def _place(**location: Any) -> list[dict[str, Any]]:
    return [{"kind": "home", "location": {"lat": 60.17, "lon": 24.94, **location}}]


CASES = [
    ("latitude 200", {"places": _place(lat=200)}, "body.places.0.location.lat"),
    (
        "unknown qualification",
        {"qualifications": [{"kind": "wizard", "expires_on": "2030-01-01"}]},
        "body.qualifications.0.kind",
    ),
    (
        "malformed window",
        {
            "places": [
                {
                    "kind": "home",
                    "location": {"lat": 60.17, "lon": 24.94},
                    "windows": [{"days": ["mon"], "start": "25:00", "end": "08:00"}],
                }
            ]
        },
        "body.places.0.windows.0.start",
    ),
    (
        "unknown day",
        {
            "places": [
                {
                    "kind": "home",
                    "location": {"lat": 60.17, "lon": 24.94},
                    "windows": [{"days": ["moonday"], "start": "08:00", "end": "09:00"}],
                }
            ]
        },
        "body.places.0.windows.0.days.0",
    ),
    ("unknown field", {"favourite_colour": "red"}, "body.favourite_colour"),
    ("no qualification", {"qualifications": []}, "body.qualifications"),
    ("bad e-mail", {"email": "not-an-address"}, "body.email"),
    ("NaN longitude", {"places": _place(lon=float("nan"))}, "body.places.0.location.lon"),
]


@pytest.mark.parametrize(("case", "overrides", "field"), CASES, ids=[c[0] for c in CASES])
async def test_registration_422_names_field_and_writes_nothing(
    client: httpx.AsyncClient, engine: AsyncEngine, case: str, overrides: dict[str, Any], field: str
) -> None:
    body = volunteer(**overrides)
    content = (
        httpx.Request("POST", "/", json=body).content
        if case != "NaN longitude"
        else (
            b'{"name":"A","phone":"+358401234567","email":"a@b.fi",'
            b'"qualifications":[{"kind":"cpr_aed","expires_on":"2030-01-01"}],'
            b'"places":[{"kind":"home","location":{"lat":60.17,"lon":NaN}}]}'
        )
    )
    response = await client.post(
        "/responders", content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "invalid"
    assert body["field"] == field, body
    assert field.split(".")[-1] in body["detail"]
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM responders"))).scalar_one() == 0


async def test_location_update_422(client: httpx.AsyncClient) -> None:
    _, headers = await register(client)
    response = await client.put(
        "/responders/me/location", headers=headers, json={"lat": 200, "lon": 24.9, "accuracy_m": 5}
    )
    assert response.status_code == 422
    assert response.json()["field"] == "body.lat"
    response = await client.put(
        "/responders/me/location",
        headers=headers,
        json={"lat": 60.1, "lon": 24.9, "accuracy_m": 5, "speed": 3},
    )
    assert response.json()["field"] == "body.speed"


async def test_bad_json_is_422_not_500(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/responders", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid"


async def test_body_too_large_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/responders", content=b"x" * 3_000_000, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
