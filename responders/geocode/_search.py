"""Forward and reverse geocoding over the index `store` keeps.

Forward: a query with a house number looks for addresses on the streets whose names match
best (the exact number first, else the nearest number on that street, saying so, else the
street itself); every query also looks for places and streets by name. Results are ranked
by a confidence made of how well the text matched, what kind of match it is, and how far
the result is from the focus point.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from responders.db.gateway import Database, Row
from responders.geocode import store
from responders.geocode._text import HouseNumber, Query, fold, parse_query

__all__ = ["GeocodeHit", "Kind", "Match", "reverse", "search"]

Kind = Literal["address", "street", "place"]
Match = Literal["exact", "nearest_number", "street", "name", "fuzzy"]

# What each kind of match is worth beside the text's own score.
_EXACT = 1.0
_EXACT_OTHER_UNIT = 0.95  # "52" asked, "52 B" found (or the other way round)
_NEAREST = 0.8
_STREET_ONLY = 0.6
_NAME = 0.97  # a place named as typed still yields to an address typed in full
# Below this a name's match is "fuzzy" rather than "name".
_FUZZY_BELOW = 0.75
# A result this far from the focus loses this share of its confidence (linearly up to it).
_FAR_M = 20_000.0
_FAR_PENALTY = 0.15
_OTHER_CITY = 0.85


@dataclass(frozen=True, slots=True)
class GeocodeHit:
    lat: float
    lon: float
    label: str
    kind: Kind
    match: Match
    confidence: float
    street: str | None = None
    housenumber: str | None = None
    note: str | None = None
    distance_m: float | None = None


async def search(
    db: Database, q: str, *, near: tuple[float, float] | None = None, limit: int = 5
) -> list[GeocodeHit]:
    query = parse_query(q)
    hits: list[GeocodeHit] = []
    async with db.transaction() as conn:
        await store.prefer_indexes(conn)
        if query.number is not None and query.text:
            rows = await store.search_addresses(
                conn, query.text, query.number.lo, query.number.key, near
            )
            hits += _addresses(rows, query.number)
        names = await store.search_names(conn, query.text, near, limit * 3)
    # A street whose addresses answered already is not offered again as a bare street.
    answered = {hit.street for hit in hits}
    for row in names:
        if not (row["kind"] == "street" and query.number is not None and row["street"] in answered):
            hits.append(_named(row, query))
    ranked = sorted(
        (_adjusted(hit, query.city, near) for hit in hits),
        key=lambda hit: (-hit.confidence, hit.distance_m or 0.0),
    )
    return _distinct(ranked)[:limit]


async def reverse(
    db: Database, lat: float, lon: float, *, address_max_m: float, street_max_m: float
) -> GeocodeHit | None:
    """The nearest address within `address_max_m`, else the nearest named street within
    `street_max_m`, else None."""
    row = await store.nearest_address(db, lat, lon, address_max_m)
    if row is not None:
        return GeocodeHit(
            lat=row["lat"],
            lon=row["lon"],
            label=row["label"],
            kind="address",
            match="exact",
            confidence=_proximity(row["distance_m"], address_max_m),
            street=row["street"],
            housenumber=row["housenumber"],
            distance_m=_metres(row["distance_m"]),
        )
    row = await store.nearest_street(db, lat, lon, street_max_m)
    if row is None:
        return None
    return GeocodeHit(
        lat=row["lat"],
        lon=row["lon"],
        label=row["label"],
        kind="street",
        match="street",
        confidence=round(_proximity(row["distance_m"], street_max_m) * _STREET_ONLY, 3),
        street=row["street"],
        note="No address nearby: the nearest street",
        distance_m=_metres(row["distance_m"]),
    )


def _addresses(rows: list[Row], wanted: HouseNumber) -> list[GeocodeHit]:
    """Per matching street: its addresses with the wanted number, else its nearest one."""
    by_street: dict[str, list[Row]] = {}
    for row in rows:
        by_street.setdefault(row["street"], []).append(row)
    exact_hits, nearest_hits = [], []
    for street_rows in by_street.values():
        exact = [row for row in street_rows if row["house_lo"] <= wanted.lo <= row["house_hi"]]
        for row in exact:
            same_unit = _unit(row["house_key"]) == wanted.unit
            factor = _EXACT if same_unit else _EXACT_OTHER_UNIT
            exact_hits.append(_address_hit(row, "exact", factor))
        if not exact and street_rows:
            nearest = street_rows[0]
            note = f"No {wanted.text} here: nearest is {nearest['housenumber']}"
            nearest_hits.append(_address_hit(nearest, "nearest_number", _NEAREST, note))
    # Once some street has the number, "no 5 here" on a similarly named one only contradicts
    # it (a shopping arcade's "Galleria Esplanad, Aleksanterinkatu" beside Aleksanterinkatu).
    return exact_hits or nearest_hits


def _unit(house_key: str | None) -> str | None:
    return house_key[-1] if house_key and house_key[-1].isalpha() else None


def _address_hit(row: Row, match: Match, factor: float, note: str | None = None) -> GeocodeHit:
    return GeocodeHit(
        lat=row["lat"],
        lon=row["lon"],
        label=row["label"],
        kind="address",
        match=match,
        confidence=min(1.0, row["score"]) * factor,
        street=row["street"],
        housenumber=row["housenumber"],
        note=note,
        distance_m=_metres(row["distance_m"]),
    )


def _named(row: Row, query: Query) -> GeocodeHit:
    score = min(1.0, row["score"])
    kind: Kind = row["kind"]
    if query.number is not None and kind == "street":
        # A number was asked and this street has none of its addresses indexed.
        match: Match = "street"
        factor = _STREET_ONLY
        note: str | None = f"No {query.number.text} found on this street"
    else:
        match = "name" if score >= _FUZZY_BELOW else "fuzzy"
        factor = _NAME if query.number is None else _STREET_ONLY
        note = None
    return GeocodeHit(
        lat=row["lat"],
        lon=row["lon"],
        label=row["label"],
        kind=kind,
        match=match,
        confidence=score * factor,
        street=row["street"] if kind == "street" else None,
        housenumber=None,
        note=note,
        distance_m=_metres(row["distance_m"]),
    )


def _adjusted(hit: GeocodeHit, city: str | None, near: tuple[float, float] | None) -> GeocodeHit:
    confidence = hit.confidence
    if near is not None and hit.distance_m is not None:
        confidence *= 1 - _FAR_PENALTY * min(1.0, hit.distance_m / _FAR_M)
    if city and "," in hit.label and fold(city) not in fold(hit.label.rpartition(",")[2]):
        confidence *= _OTHER_CITY
    return replace(hit, confidence=round(confidence, 3))


def _distinct(hits: list[GeocodeHit]) -> list[GeocodeHit]:
    """One result per label and kind (an address mapped on its building and its entrance):
    the first, which ranks best."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for hit in hits:
        if (hit.label, hit.kind) not in seen:
            seen.add((hit.label, hit.kind))
            kept.append(hit)
    return kept


def _proximity(distance_m: float, max_m: float) -> float:
    return round(max(0.0, 1 - 0.5 * distance_m / max_m), 3) if max_m > 0 else 1.0


def _metres(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
