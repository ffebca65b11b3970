"""Forward and reverse geocoding on the real Helsinki extract: the issue's named queries and
its acceptance figures over 100 addressed objects taken at random."""

from __future__ import annotations

import pytest

from responders.db.gateway import Database
from responders.geocode import GeocodeHit, reverse, search, store
from responders.geocode._osm import Extract
from tests.geocode.accuracy import measure

pytestmark = pytest.mark.usefixtures("geocode_index")

CENTRE = (60.1699, 24.9384)
# Stockmann's building outline, where OSM puts Aleksanterinkatu 52.
ALEKSANTERINKATU_52 = (60.16866, 24.94163)


def _near(hit: GeocodeHit, point: tuple[float, float], metres: float = 30) -> bool:
    return abs(hit.lat - point[0]) * 111_320 < metres and abs(hit.lon - point[1]) * 55_500 < metres


@pytest.mark.parametrize(
    "q",
    [
        "Aleksanterinkatu 52",
        "aleksanterink 52",
        "52 Aleksanterinkatu",
        "Aleksanterinkatu 52, Helsinki",
        "ALEKSANTERINKATU 52",
        "Alexandersgatan 52",  # name:sv of the street; the address is tagged in Finnish
    ],
)
async def test_the_issues_queries_find_aleksanterinkatu_52(db: Database, q: str) -> None:
    (first, *_) = await search(db, q, near=CENTRE)
    assert first.label == "Aleksanterinkatu 52, Helsinki"
    assert (first.kind, first.match, first.street, first.housenumber) == (
        "address",
        "exact",
        "Aleksanterinkatu",
        "52",
    )
    assert _near(first, ALEKSANTERINKATU_52)
    assert first.confidence > 0.9


@pytest.mark.parametrize(
    ("q", "street"),
    # Hämeentie is outside the shipped extract (central Helsinki); these streets are in it.
    [("Yrjonkatu 8", "Yrjönkatu"), ("Lonnrotinkatu 5", "Lönnrotinkatu")],
)
async def test_letters_without_their_accents_find_the_street(
    db: Database, q: str, street: str
) -> None:
    (first, *_) = await search(db, q)
    assert first.kind == "address"
    assert first.street == street


async def test_a_missing_number_gives_the_nearest_one_and_says_so(db: Database) -> None:
    (first, *_) = await search(db, "Aleksanterinkatu 51")
    assert first.match == "nearest_number"
    assert first.street == "Aleksanterinkatu"
    assert first.note == f"No 51 here: nearest is {first.housenumber}"
    assert first.housenumber in {"50", "52"}


async def test_a_unit_letter_is_part_of_the_number(db: Database) -> None:
    hits = await search(db, "Bulevardi 5 a")
    assert hits[0].street == "Bulevardi" and hits[0].housenumber is not None
    assert hits[0].housenumber.replace(" ", "").lower().startswith("5")


@pytest.mark.parametrize(
    ("q", "label"),
    [("Stockmann", "Stockmann, Aleksanterinkatu 52"), ("stockm", "Stockmann, Aleksanterinkatu 52")],
)
async def test_places_are_found_by_name(db: Database, q: str, label: str) -> None:
    (first, *_) = await search(db, q, near=CENTRE)
    assert (first.label, first.kind) == (label, "place")
    assert first.match in {"name", "fuzzy"}


async def test_rautatientori_is_found_as_the_square_and_its_station(db: Database) -> None:
    hits = await search(db, "Rautatientori", near=CENTRE)
    assert hits[0].label.startswith("Rautatientori")
    assert hits[0].match == "name"
    assert {hit.kind for hit in hits} >= {"place", "street"}
    assert all(_near(hit, (60.1710, 24.9415), 400) for hit in hits[:3])


async def test_the_focus_point_ranks_among_equals(db: Database) -> None:
    # "Rautatientori" names a station, a bus station and the street: the nearest first.
    east = await search(db, "Rautatientori", near=(60.1714, 24.9440))
    west = await search(db, "Rautatientori", near=(60.1702, 24.9390))
    assert east[0].distance_m is not None and west[0].distance_m is not None
    assert east[0].distance_m < 150 and west[0].distance_m < 150
    assert (east[0].lat, east[0].lon) != (west[0].lat, west[0].lon)


async def test_nothing_like_it_answers_nothing(db: Database) -> None:
    assert await search(db, "Qwxzvbn 12") == []


async def test_reverse_gives_the_nearest_address_else_the_street_else_nothing(
    db: Database,
) -> None:
    at = await reverse(db, 60.16844, 24.94208, address_max_m=75, street_max_m=300)
    assert at is not None and (at.kind, at.label) == ("address", "Aleksanterinkatu 52, Helsinki")
    park = await reverse(db, 60.1700, 24.9560, address_max_m=75, street_max_m=300)
    assert park is not None and park.kind == "street" and park.street
    assert park.distance_m is not None and 75 < park.distance_m <= 300
    assert await reverse(db, 60.1700, 24.9560, address_max_m=75, street_max_m=50) is None


async def test_acceptance_figures_over_100_random_addresses(
    db: Database, helsinki_extract: Extract
) -> None:
    figures = await measure(db, helsinki_extract)
    print(
        f"\nstreet number first within 30 m: {figures.exact:.0%}; one letter dropped: "
        f"{figures.dropped:.0%}; reverse names the street: {figures.reverse:.0%}"
    )
    print("missed:", "; ".join(figures.misses))
    assert figures.exact >= 0.95
    assert figures.dropped >= 0.80
    assert figures.reverse >= 0.90


@pytest.mark.parametrize(
    ("statement", "params", "index"),
    [
        (
            store._SEARCH_ADDRESSES,
            {"text": "Annankatu", "number": 14, "house_key": "14", "keys": 6, "per_street": 8},
            "geocode_names_street_search_idx",
        ),
        (store._SEARCH_NAMES, {"text": "Stockmann", "limit": 15}, "geocode_names_entry_search_idx"),
        (
            store._NEAREST_ADDRESS,
            {"lat": 60.1684, "lon": 24.942, "max_m": 75},
            "geocode_entries_location_idx",
        ),
        (
            store._NEAREST_STREET,
            {"lat": 60.17, "lon": 24.956, "max_m": 300},
            "geocode_entries_shape_idx",
        ),
    ],
)
async def test_searches_read_their_indexes(
    db: Database, statement: str, params: dict[str, object], index: str
) -> None:
    """As `search` and `reverse` run them: the trigram and spatial indexes answer, not a
    scan computing trigrams or distances for every row."""
    async with db.transaction() as conn:
        await store.prefer_indexes(conn)
        plan = await conn.column(
            "EXPLAIN (COSTS OFF) " + statement,
            {"near_lat": None, "near_lon": None, **params},
        )
    text = "\n".join(plan)
    assert index in text, text
    assert "Seq Scan on geocode_names" not in text


async def test_an_exact_number_is_not_contradicted_by_a_nearest_one(db: Database) -> None:
    """Once a street has the number asked, another street's "no 5 here: nearest is 42"
    (a similar name, e.g. a shopping arcade's dirty `addr:street`) is noise, not help."""
    hits = await search(db, "Aleksanterinkatu 5", limit=5)
    assert hits[0].match == "exact" and hits[0].housenumber == "5", hits[0]
    assert [h for h in hits if h.match == "nearest_number"] == [], hits
