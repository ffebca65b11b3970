"""GET /geocode and /geocode/reverse: the contract's shape, who may call, the limits."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from responders.api import create_app
from responders.geocode import BuildReport
from responders.settings import LimitSettings, Settings
from routing import Router
from tests.api.test_responders import register

# Aleksanterinkatu 52 (Stockmann) and a point in Kaisaniemi park, 150 m from any address.
STOCKMANN = (60.16844, 24.94208)
PARK = (60.1700, 24.9560)
PROPERTIES = {"label", "kind", "match", "confidence", "street", "housenumber", "note", "distance_m"}

pytestmark = pytest.mark.usefixtures("geocode_index")


async def test_search_answers_a_geojson_feature_collection(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    response = await client.get(
        "/geocode",
        params={"q": "Aleksanterinkatu 52", "near": "60.1699,24.9384", "limit": 3},
        headers=operator_headers,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/geo+json")
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert 1 <= len(body["features"]) <= 3
    first = body["features"][0]
    assert first["type"] == "Feature"
    assert first["geometry"]["type"] == "Point"
    lon, lat = first["geometry"]["coordinates"]
    assert abs(lat - 60.1686) < 0.001 and abs(lon - 24.9416) < 0.001
    assert set(first["properties"]) == PROPERTIES
    assert first["properties"] | {"confidence": None, "distance_m": None} == {
        "label": "Aleksanterinkatu 52, Helsinki",
        "kind": "address",
        "match": "exact",
        "confidence": None,
        "street": "Aleksanterinkatu",
        "housenumber": "52",
        "note": None,
        "distance_m": None,
    }
    assert 0.9 <= first["properties"]["confidence"] <= 1
    assert 100 < first["properties"]["distance_m"] < 300
    confidences = [f["properties"]["confidence"] for f in body["features"]]
    assert confidences == sorted(confidences, reverse=True)


async def test_without_near_there_is_no_distance_and_volunteers_may_search(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    _, headers = await register(client)
    body = (await client.get("/geocode", params={"q": "Stockmann"}, headers=headers)).json()
    assert body["features"][0]["properties"]["label"] == "Stockmann, Aleksanterinkatu 52"
    assert body["features"][0]["properties"]["distance_m"] is None
    assert len(body["features"]) <= 5  # the default limit


async def test_search_needs_a_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/geocode", params={"q": "Stockmann"})
    assert response.status_code == 401
    bad = await client.get(
        "/geocode", params={"q": "Stockmann"}, headers={"Authorization": "Bearer nope"}
    )
    assert bad.status_code == 401


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": "   "}, "q"),
        ({"q": ""}, "q"),
        ({"q": "x" * 201}, "q"),
        ({"q": "Stockmann", "near": "north"}, "near"),
        ({"q": "Stockmann", "near": "95,24"}, "near"),
        ({"q": "Stockmann", "limit": 0}, "limit"),
        ({"q": "Stockmann", "limit": 21}, "limit"),
    ],
)
async def test_bad_queries_are_422_with_a_sentence(
    client: httpx.AsyncClient,
    operator_headers: dict[str, str],
    params: dict[str, str | int],
    field: str,
) -> None:
    response = await client.get("/geocode", params=params, headers=operator_headers)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "invalid", body
    assert body["errors"][0]["field"] == f"query.{field}"
    assert len(body["detail"].split()) >= 3  # a sentence, not a code


async def test_reverse_names_the_address_or_the_street_or_nothing(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    at = await client.get(
        "/geocode/reverse",
        params={"lat": STOCKMANN[0], "lon": STOCKMANN[1]},
        headers=operator_headers,
    )
    assert at.status_code == 200
    assert at.headers["content-type"].startswith("application/geo+json")
    (feature,) = at.json()["features"]
    assert feature["properties"]["label"] == "Aleksanterinkatu 52, Helsinki"
    assert feature["properties"]["kind"] == "address"
    assert feature["properties"]["distance_m"] < 75
    park = await client.get(
        "/geocode/reverse", params={"lat": PARK[0], "lon": PARK[1]}, headers=operator_headers
    )
    (street,) = park.json()["features"]
    assert street["properties"]["kind"] == "street"
    assert 75 < street["properties"]["distance_m"] < 300
    assert street["properties"]["confidence"] == round(street["properties"]["confidence"], 3)
    sea = await client.get(
        "/geocode/reverse", params={"lat": 60.10, "lon": 24.90}, headers=operator_headers
    )
    assert sea.json() == {"type": "FeatureCollection", "features": []}


async def test_reverse_refuses_a_bad_point_and_a_bad_token(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    bad = await client.get(
        "/geocode/reverse", params={"lat": 91, "lon": 24}, headers=operator_headers
    )
    assert bad.status_code == 422
    wrong = await client.get(
        "/geocode/reverse",
        params={"lat": STOCKMANN[0], "lon": STOCKMANN[1]},
        headers={"Authorization": "Bearer not-a-token"},
    )
    assert wrong.status_code == 401


@pytest_asyncio.fixture(loop_scope="session")
async def limited_app(
    settings: Settings, helsinki_router: Router, clean_db: AsyncEngine, geocode_index: BuildReport
) -> AsyncIterator[FastAPI]:
    limits = LimitSettings(reverse_geocodes_per_client_per_minute=3)
    limited = create_app(settings.model_copy(update={"limits": limits}), router=helsinki_router)
    async with limited.router.lifespan_context(limited):
        yield limited


def _client(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def test_anonymous_reverse_answers_within_a_limit_per_client(limited_app: FastAPI) -> None:
    point = {"lat": STOCKMANN[0], "lon": STOCKMANN[1]}
    async with _client(limited_app, "10.0.0.7") as http:
        codes = [(await http.get("/geocode/reverse", params=point)).status_code for _ in range(4)]
        refused = await http.get("/geocode/reverse", params=point)
        ok = await http.get("/geocode/reverse", params=point)
    assert codes == [200, 200, 200, 429]
    assert refused.json()["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) >= 1
    assert ok.status_code == 429
    # Another client has its own allowance; a volunteer with a token is not limited here.
    async with _client(limited_app, "10.0.0.8") as http:
        assert (await http.get("/geocode/reverse", params=point)).status_code == 200
        _, headers = await register(http)
        for _ in range(5):
            answer = await http.get("/geocode/reverse", params=point, headers=headers)
            assert answer.status_code == 200
    # Forward search is never anonymous.
    async with _client(limited_app, "10.0.0.9") as http:
        assert (await http.get("/geocode", params={"q": "Stockmann"})).status_code == 401
