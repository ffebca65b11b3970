"""What an OSM extract holds for geocoding: house addresses, named streets, named places.

One pass with pyosmium. Ways are placed at the mean of their nodes and multipolygons at the
mean of their outer rings; a clipped extract (a way whose nodes are outside the file) simply
loses that object.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import osmium

from responders.geocode._text import HouseNumber, parse_housenumber

__all__ = ["Extract", "OsmAddress", "OsmPlace", "OsmStreet", "read_extract"]

log = logging.getLogger(__name__)

# The names a street or place is known by, the usual one first. Not old_name: a dispatcher
# typing a street's old name would land on whatever now carries it.
_NAME_KEYS = (
    "name",
    "name:fi",
    "name:sv",
    "name:en",
    "official_name",
    "short_name",
    "alt_name",
    "loc_name",
)
# Named ways under these highway values ("-": none) are not streets a person gives as an
# address.
_NOT_STREETS = frozenset({"-", "platform", "bus_stop", "elevator", "proposed", "construction"})
# Keys that make a named object a place people name ("Stockmann", "Rautatientori").
_PLACE_KEYS = ("amenity", "shop", "tourism", "leisure", "office", "historic", "building", "place")
_STATIONS = {"railway": "station", "public_transport": "station"}


@dataclass(frozen=True, slots=True)
class OsmAddress:
    street: str
    number: HouseNumber
    lat: float
    lon: float
    postcode: str | None
    city: str | None
    # Other names of the street given on the object itself (addr:street:sv, addr:street:fi).
    alternates: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OsmPlace:
    names: tuple[str, ...]
    lat: float
    lon: float
    street: str | None
    housenumber: str | None
    city: str | None


@dataclass(frozen=True, slots=True)
class OsmStreet:
    """One segment (a way) of a named street: its names and its line as (lon, lat)."""

    names: tuple[str, ...]
    line: tuple[tuple[float, float], ...]


@dataclass
class Extract:
    addresses: list[OsmAddress] = field(default_factory=list)
    places: list[OsmPlace] = field(default_factory=list)
    streets: list[OsmStreet] = field(default_factory=list)


def read_extract(path: Path) -> Extract:
    found = Extract()
    processor = osmium.FileProcessor(str(path)).with_locations().with_areas()
    for obj in processor:
        if isinstance(obj, osmium.osm.Changeset):
            continue
        if isinstance(obj, osmium.osm.Area) and obj.from_way():
            continue  # the closed way itself was read already
        tags = obj.tags
        if isinstance(obj, osmium.osm.Way) and tags.get("highway", "-") not in _NOT_STREETS:
            names = _names(tags)
            line = tuple((n.lon, n.lat) for n in obj.nodes if n.location.valid())
            if names and len(line) >= 2:
                found.streets.append(OsmStreet(names, line))
        if "addr:housenumber" not in tags and "name" not in tags:
            continue
        if (point := _location(obj)) is None:
            continue
        if (address := _address(tags, point)) is not None:
            found.addresses.append(address)
        if _is_place(tags) and (names := _names(tags)):
            found.places.append(
                OsmPlace(
                    names,
                    point[0],
                    point[1],
                    tags.get("addr:street") or tags.get("addr:place"),
                    tags.get("addr:housenumber"),
                    tags.get("addr:city"),
                )
            )
    log.info(
        "geocode: %s holds %d addresses, %d street segments, %d places",
        path.name,
        len(found.addresses),
        len(found.streets),
        len(found.places),
    )
    return found


def _names(tags: Any) -> tuple[str, ...]:
    names: list[str] = []
    for key in _NAME_KEYS:
        for value in (tags.get(key) or "").split(";"):
            value = value.strip()
            if value and value not in names:
                names.append(value)
    return tuple(names)


def _is_place(tags: Any) -> bool:
    if any(tags.get(key) == value for key, value in _STATIONS.items()):
        return True
    return any(key in tags for key in _PLACE_KEYS)


def _address(tags: Any, point: tuple[float, float]) -> OsmAddress | None:
    street = tags.get("addr:street") or tags.get("addr:place")
    number = parse_housenumber(tags.get("addr:housenumber") or "")
    if not street or number is None:
        return None
    alternates = tuple(
        value for key in ("addr:street:sv", "addr:street:fi") if (value := tags.get(key))
    )
    return OsmAddress(
        street.strip(),
        number,
        point[0],
        point[1],
        tags.get("addr:postcode"),
        tags.get("addr:city"),
        alternates,
    )


def _mean(points: Iterable[tuple[float, float]]) -> tuple[float, float] | None:
    listed = list(points)
    if not listed:
        return None
    return sum(p[0] for p in listed) / len(listed), sum(p[1] for p in listed) / len(listed)


def _location(obj: Any) -> tuple[float, float] | None:
    """(lat, lon) of a node, the mean of a way's nodes or of an area's outer rings."""
    if obj.is_node():
        return (obj.location.lat, obj.location.lon) if obj.location.valid() else None
    if obj.is_way():
        return _mean((n.lat, n.lon) for n in obj.nodes if n.location.valid())
    if obj.is_area():
        return _mean(
            (n.lat, n.lon) for ring in obj.outer_rings() for n in ring if n.location.valid()
        )
    return None
