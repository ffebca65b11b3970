"""Credentials: no token → 401; a volunteer cannot touch another; roles are enforced."""

from __future__ import annotations

import httpx
import pytest

from tests.api.test_responders import register

VOLUNTEER_ROUTES = [
    ("GET", "/responders/me", None),
    ("PATCH", "/responders/me", {"name": "X"}),
    ("DELETE", "/responders/me", None),
    ("PUT", "/responders/me/location", {"lat": 60.17, "lon": 24.94, "accuracy_m": 5}),
    ("PUT", "/responders/me/availability", {"status": "active"}),
    ("POST", "/responders/me/devices", {"fcm_token": "t", "platform": "android"}),
]
OPERATOR_ROUTES = [("GET", "/aeds", None), ("POST", "/aeds", {})]


@pytest.mark.parametrize(("method", "path", "body"), VOLUNTEER_ROUTES + OPERATOR_ROUTES)
async def test_no_token_is_401(
    client: httpx.AsyncClient, method: str, path: str, body: dict | None
) -> None:  # type: ignore[type-arg]
    response = await client.request(method, path, json=body)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_volunteer_only_ever_sees_and_changes_themself(client: httpx.AsyncClient) -> None:
    aino, aino_headers = await register(client)
    eero, eero_headers = await register(client, name="Eero", email="eero@example.org", device=None)
    assert (await client.get("/responders/me", headers=eero_headers)).json()["id"] == eero["id"]
    await client.patch("/responders/me", headers=eero_headers, json={"name": "Eero M"})
    assert (await client.get("/responders/me", headers=aino_headers)).json()[
        "name"
    ] == "Aino Virtanen"
    # There is no route that takes another volunteer's id.
    assert (await client.get(f"/responders/{aino['id']}", headers=eero_headers)).status_code in (
        404,
        405,
    )


async def test_volunteer_token_is_not_an_operator_token(client: httpx.AsyncClient) -> None:
    _, headers = await register(client)
    response = await client.get("/aeds", headers=headers)
    assert response.status_code == 401


async def test_operator_token_is_not_a_volunteer_token(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    response = await client.get("/responders/me", headers=operator_headers)
    assert response.status_code == 401
