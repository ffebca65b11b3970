"""Demo data: volunteers and AEDs placed at real addresses of the loaded extract.

Reproducible (seeded) and idempotent: a second run keeps the volunteers and only freshens
their live locations, so `make demo` can be restarted at will (`responders.demo_upkeep`
gives them a fresh day at each start).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import osmium

from responders.db.gateway import Database
from responders.demo_tokens import volunteer_token
from responders.demo_upkeep import DEMO_DOMAIN
from responders.registry import store
from responders.registry.aeds import import_aeds
from responders.registry.locations import LocationWriter
from responders.registry.operators import create_operator
from responders.registry.responders import register_responder
from responders.schemas.aeds import AedCreate
from responders.schemas.responders import (
    LocationUpdate,
    QualificationIn,
    QualificationKind,
    ResponderCreate,
    WebPushDeviceCreate,
    WebPushSubscription,
)

__all__ = [
    "Address",
    "DemoSummary",
    "attach_webpush",
    "load_demo",
    "read_addresses",
    "write_credentials",
]

_FIRST = [
    "Aino",
    "Eero",
    "Helmi",
    "Onni",
    "Venla",
    "Leo",
    "Ella",
    "Väinö",
    "Siiri",
    "Elias",
    "Aada",
    "Oliver",
    "Lilja",
    "Eino",
    "Sofia",
    "Toivo",
    "Emma",
    "Niilo",
    "Kerttu",
    "Aleksi",
]
_LAST = [
    "Virtanen",
    "Korhonen",
    "Mäkinen",
    "Nieminen",
    "Mäkelä",
    "Hämäläinen",
    "Laine",
    "Heikkinen",
    "Koskinen",
    "Järvinen",
    "Lehtonen",
    "Lehtinen",
    "Saarinen",
    "Salminen",
]
_QUALIFICATIONS: list[QualificationKind] = ["cpr_aed", "first_aid", "bhv", "nurse", "physician"]
_WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
_ALL_DAYS = [*_WEEKDAYS, "sat", "sun"]
# The demo's volunteers, by their addresses (a LIKE pattern).
_DEMO_EMAILS = f"%@{DEMO_DOMAIN}"


@dataclass(frozen=True)
class Address:
    lat: float
    lon: float
    text: str


@dataclass
class DemoSummary:
    volunteers: int
    aeds: int
    operator_token: str
    coordinator_token: str
    volunteer_tokens: dict[int, str]  # only the volunteers this run registered
    volunteer_names: dict[int, str]  # every demo volunteer's


def read_addresses(path: Path) -> list[Address]:
    """Address points (nodes, and building outlines by their mean) of an OSM extract."""
    found: dict[str, Address] = {}
    for obj in osmium.FileProcessor(str(path)).with_locations():
        label = _label(obj.tags)
        if label and label not in found and (point := _location(obj)) is not None:
            found[label] = Address(lat=point[0], lon=point[1], text=label)
    return sorted(found.values(), key=lambda a: a.text)


def _label(tags: Any) -> str | None:
    street, number = tags.get("addr:street"), tags.get("addr:housenumber")
    return f"{street} {number}" if street and number else None


def _location(obj: Any) -> tuple[float, float] | None:
    if obj.is_node():
        return (obj.location.lat, obj.location.lon) if obj.location.valid() else None
    if not obj.is_way():
        return None
    points = [(n.location.lat, n.location.lon) for n in obj.nodes if n.location.valid()]
    if not points:
        return None  # clipped extract: the way's nodes are outside the file
    return sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)


async def load_demo(
    db: Database,
    addresses: list[Address],
    *,
    volunteers: int = 300,
    aeds: int = 40,
    seed: int = 112,
) -> DemoSummary:
    rng = random.Random(seed)
    tokens = await _volunteers(db, addresses, volunteers, rng)
    aed_count = await _aeds(db, addresses, aeds, rng)
    operator = await create_operator(db, "demo operator", "operator")
    coordinator = await create_operator(db, "demo coordinator", "coordinator")
    names = await store.volunteer_names_like(db, _DEMO_EMAILS)
    return DemoSummary(len(tokens), aed_count, operator.token, coordinator.token, tokens, names)


async def _volunteers(
    db: Database, addresses: list[Address], count: int, rng: random.Random
) -> dict[int, str]:
    if await store.count_volunteers_like(db, _DEMO_EMAILS):
        await store.freshen_live_locations(db)
        return {}
    tokens = {}
    moves = []
    for number in range(count):
        home, work = rng.choice(addresses), rng.choice(addresses)
        responder, token = await register_responder(db, _volunteer(number, home, work, rng))
        tokens[responder.id] = token
        if rng.random() < 0.55:
            spot = rng.choice(addresses)
            update = LocationUpdate(lat=spot.lat, lon=spot.lon, accuracy_m=rng.uniform(5, 40))
            moves.append((token, update))
    # All at once, so the writer sends them as one group rather than one per 5 ms window.
    locations = LocationWriter(db)
    await asyncio.gather(*(locations.write(token, update) for token, update in moves))
    return tokens


async def attach_webpush(
    db: Database, responder_ids: Iterable[int], subscribe: Callable[[int], WebPushSubscription]
) -> int:
    """Gives each demo volunteer a second device: a Web Push subscription (`subscribe`
    makes it on the demo's local push service), so the demo phone shows both channels. Made
    at every start: the service keeps its subscriptions in memory only. An endpoint stays the
    same from run to run (its id is the volunteer's), so its new keys replace the stored
    ones instead of leaving a dead device behind. Returns how many were attached."""
    attached = 0
    async with db.transaction() as conn:
        for responder_id in responder_ids:
            data = WebPushDeviceCreate(kind="webpush", subscription=subscribe(responder_id))
            device = await store.upsert_device(
                conn, responder_id, None, data, conflict="the demo subscription is taken"
            )
            attached += device is not None
    return attached


def _volunteer(number: int, home: Address, work: Address, rng: random.Random) -> ResponderCreate:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    expiry = dt.date.today() + dt.timedelta(days=rng.randint(-60, 900))
    kinds = rng.sample(_QUALIFICATIONS, k=rng.choice([1, 1, 2]))
    return ResponderCreate.model_validate(
        {
            "name": f"{first} {last}",
            "phone": f"+358 40 {rng.randint(1000000, 9999999)}",
            "email": f"volunteer{number}@{DEMO_DOMAIN}",
            # Some have lapsed since they registered (the API refuses an expired one at
            # registration): built as they are stored, not validated as a request.
            "qualifications": [
                QualificationIn.model_construct(kind=k, expires_on=expiry) for k in kinds
            ],
            "places": [
                _place("home", home, [{"days": _ALL_DAYS, "start": "18:00", "end": "08:00"}]),
                _place("work", work, [{"days": _WEEKDAYS, "start": "08:30", "end": "17:00"}]),
            ],
            "device": {
                "fcm_token": f"demo-device-{number}",
                "platform": rng.choice(["android", "android", "ios"]),
            },
        }
    )


def _place(kind: str, address: Address, windows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "kind": kind,
        "label": address.text,
        "windows": windows,
        "location": {"lat": address.lat, "lon": address.lon},
    }


async def _aeds(db: Database, addresses: list[Address], count: int, rng: random.Random) -> int:
    if await store.count_aeds(db):
        return 0
    return await import_aeds(db, list(_aed_rows(addresses, count, rng)))


def _aed_rows(addresses: list[Address], count: int, rng: random.Random) -> Iterator[AedCreate]:
    for number, address in enumerate(rng.sample(addresses, k=min(count, len(addresses)))):
        restricted = rng.random() < 0.5
        hours = [
            {"days": _WEEKDAYS, "start": "08:00", "end": "20:00"},
            {"days": ["sat"], "start": "10:00", "end": "16:00"},
        ]
        yield AedCreate.model_validate(
            {
                "location": {"lat": address.lat, "lon": address.lon},
                "address": address.text,
                "description": rng.choice(
                    ["entrance hall", "by the lifts", "outside wall cabinet"]
                ),
                "access": "restricted" if restricted else "public",
                "opening_hours": hours if restricted else [],
                "cabinet_code": None if restricted else f"{rng.randint(0, 9999):04d}",
                "external_ref": f"demo-aed-{number}",
            }
        )


def write_credentials(path: Path, summary: DemoSummary) -> None:
    """The demo's tokens; each volunteer as `{"name": ..., "token": ...}` under its id. A
    token is known only to the run that registered its volunteer: the ones of earlier runs
    are kept from the file (written by this version or by one that stored bare tokens)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(path.read_text()) if path.exists() else {}
    tokens = {
        **{key: volunteer_token(value) for key, value in previous.get("volunteers", {}).items()},
        **{str(k): v for k, v in summary.volunteer_tokens.items()},
    }
    volunteers = {
        key: {"name": summary.volunteer_names.get(int(key), ""), "token": token}
        for key, token in tokens.items()
        if key.isdigit() and token
    }
    path.write_text(
        json.dumps(
            {
                "operator": summary.operator_token,
                "coordinator": summary.coordinator_token,
                "volunteers": volunteers,
            },
            indent=1,
        )
    )
    path.chmod(0o600)
