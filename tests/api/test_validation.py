"""Bad input is a 422 that names the field and writes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import jsonschema_rs
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from responders.api import create_app
from responders.settings import RegionSettings, Settings
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


# ---------- issue 12 #20: people read sentences; the schema documents the real body ----------


# NaN is not JSON: the test above sends that case by hand.
_JSON_CASES = [c for c in CASES if c[0] != "NaN longitude"]


@pytest.mark.parametrize(
    ("case", "overrides", "field"), _JSON_CASES, ids=[c[0] for c in _JSON_CASES]
)
async def test_422_messages_are_sentences_not_validator_text(
    client: httpx.AsyncClient, case: str, overrides: dict[str, Any], field: str
) -> None:
    response = await client.post("/responders", json=volunteer(**overrides))
    assert response.status_code == 422
    for problem in response.json()["errors"]:
        message = problem["message"]
        assert message[0].isupper() and message.endswith("."), message
        for jargon in ("should", "pattern", "Input", "String", "Value error", "literal"):
            assert jargon not in message, message


@pytest.mark.parametrize(
    ("phone", "message"),
    [
        ("+358 40 12", "This is not a valid phone number: check the digits"),
        ("call me maybe", "Enter a phone number we can call, e.g. +358 40 123 4567."),
        ("+999 1234567", "This is not a valid phone number: check the digits"),
    ],
)
async def test_bad_phone_is_a_sentence_by_the_field(
    client: httpx.AsyncClient, phone: str, message: str
) -> None:
    response = await client.post("/responders", json=volunteer(phone=phone))
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["field"] == "body.phone"
    assert body["errors"][0]["message"].startswith(message)
    assert body["detail"] == f"phone: {body['errors'][0]['message']}"


async def test_phone_stored_in_e164_read_in_the_configured_region(
    client: httpx.AsyncClient, settings: Settings, helsinki_router: Any
) -> None:
    responder, _ = await register(client, phone="040 123 4567")
    assert responder["phone"] == "+358401234567"
    report = await client.post(
        "/reports",
        json={
            "kind": "other",
            "location": {"lat": 60.17, "lon": 24.94},
            "callback_phone": "0401234567",
        },
    )
    assert report.status_code == 201, report.text
    # The same digits in the Netherlands are a Dutch mobile number.
    dutch = settings.model_copy(update={"region": RegionSettings(phone_region="NL")})
    app = create_app(dutch, router=helsinki_router)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as nl:
            registered = await nl.post(
                "/responders",
                json=volunteer(
                    phone="06 12345678",
                    email="nl@example.org",
                    device={"fcm_token": "tok-nl-1", "platform": "android"},
                ),
            )
            assert registered.status_code == 201, registered.text
            assert registered.json()["responder"]["phone"] == "+31612345678"
            # What is a Helsinki mobile in FI is an Eindhoven number in NL.
            eindhoven = await nl.post(
                "/responders",
                json=volunteer(
                    phone="040 123 4567",
                    email="fi@example.org",
                    device={"fcm_token": "tok-nl-2", "platform": "android"},
                ),
            )
            assert eindhoven.json()["responder"]["phone"] == "+31401234567"


async def test_email_is_parsed_as_an_address(client: httpx.AsyncClient) -> None:
    for bad in ("aino@", "aino@example", "a b@example.org", "aino@@example.org"):
        response = await client.post("/responders", json=volunteer(email=bad))
        assert response.status_code == 422, bad
        assert response.json()["errors"] == [
            {"field": "body.email", "message": "Enter an e-mail address like name@example.org."}
        ]


def _resolve(openapi: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = openapi["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


async def test_documented_422_is_the_body_sent(
    client: httpx.AsyncClient, coordinator_headers: dict[str, str]
) -> None:
    openapi = (await client.get("/openapi.json")).json()
    assert "HTTPValidationError" not in openapi["components"]["schemas"]
    _, headers = await register(client)
    answers = {
        ("/responders", "post"): await client.post("/responders", json={"name": ""}),
        ("/responders/me/location", "put"): await client.put(
            "/responders/me/location", headers=headers, json={"lat": 91}
        ),
        ("/aeds/import", "post"): await client.post(
            "/aeds/import",
            headers=coordinator_headers,
            files={"file": ("a.csv", b"lat,lon\n", "text/csv")},
        ),
    }
    for (path, method), response in answers.items():
        assert response.status_code == 422, response.text
        documented = openapi["paths"][path][method]["responses"]["422"]
        schema = documented["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ValidationProblem"}
        body, shape = response.json(), _resolve(openapi, schema)
        assert set(shape["required"]) == set(shape["properties"]) == set(body), path
        jsonschema_rs.validate({**shape, "components": openapi["components"]}, body)
        item = _resolve(openapi, shape["properties"]["errors"]["items"])
        assert all(set(e) == set(item["properties"]) for e in body["errors"])
