"""House numbers as mappers write them, queries as people type them."""

from __future__ import annotations

import pytest

from responders.geocode._text import HouseNumber, parse_housenumber, parse_query


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("52", HouseNumber("52", "52", 52, 52, None)),
        ("52 B", HouseNumber("52 B", "52b", 52, 52, "b")),
        ("36a", HouseNumber("36a", "36a", 36, 36, "a")),
        ("30-34", HouseNumber("30-34", "30-34", 30, 34, None)),
        ("29-27", HouseNumber("29-27", "29-27", 27, 29, None)),
        ("13 A, 5. krs./Floor 5", HouseNumber("13 A", "13a", 13, 13, "a")),
        ("2, 2. krs./Floor 2", HouseNumber("2", "2", 2, 2, None)),
        ("7 B, sisäpiha", HouseNumber("7 B", "7b", 7, 7, "b")),
    ],
)
def test_house_numbers_keep_the_number_range_and_letter(tag: str, expected: HouseNumber) -> None:
    assert parse_housenumber(tag) == expected


def test_a_value_without_a_number_is_no_house_number() -> None:
    assert parse_housenumber("B") is None
    assert parse_housenumber("") is None


@pytest.mark.parametrize(
    ("q", "street", "number", "city"),
    [
        ("Aleksanterinkatu 52", "Aleksanterinkatu", "52", None),
        ("  aleksanterink   52 ", "aleksanterink", "52", None),
        ("52 Aleksanterinkatu", "Aleksanterinkatu", "52", None),
        ("Aleksanterinkatu 52, Helsinki", "Aleksanterinkatu", "52", "Helsinki"),
        ("Aleksanterinkatu 52 b", "Aleksanterinkatu", "52b", None),
        ("Itäinen Puistotie 3-5", "Itäinen Puistotie", "3-5", None),
        ("Stockmann", "Stockmann", None, None),
        ("Rautatientori, Helsinki", "Rautatientori Helsinki", None, None),
    ],
)
def test_queries_split_into_street_number_and_city(
    q: str, street: str, number: str | None, city: str | None
) -> None:
    query = parse_query(q)
    assert query.text == street
    assert (query.number.key if query.number else None) == number
    assert query.city == city
