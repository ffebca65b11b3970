"""Offline geocoding: addresses, streets and places of the OSM extract (and of an imported
address register) in PostGIS, searched by name and number, or by a point."""

from responders.geocode._build import (
    BuildReport,
    build_from_extract,
    import_register,
    remove_register,
)
from responders.geocode._search import GeocodeHit, Kind, Match, reverse, search

__all__ = [
    "BuildReport",
    "GeocodeHit",
    "Kind",
    "Match",
    "build_from_extract",
    "import_register",
    "remove_register",
    "reverse",
    "search",
]
