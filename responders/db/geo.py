"""Conversion between API coordinates and PostGIS geography values."""

from __future__ import annotations

from typing import Any

from geoalchemy2.elements import WKTElement
from geoalchemy2.shape import to_shape

__all__ = ["point_lonlat", "point_value"]


def point_value(lat: float, lon: float) -> WKTElement:
    return WKTElement(f"POINT({lon!r} {lat!r})", srid=4326, extended=False)


def point_lonlat(value: Any) -> tuple[float, float]:
    """(lon, lat) of a geography point read from the database."""
    shape = to_shape(value)
    return float(shape.x), float(shape.y)
