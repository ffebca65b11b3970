"""Geocoding answers: GeoJSON FeatureCollections of addresses, streets and places."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from responders.geocode import GeocodeHit, Kind, Match
from responders.schemas.common import GeoPoint

__all__ = ["GeocodeCollection", "GeocodeFeature", "GeocodeProperties"]


class GeocodeProperties(BaseModel):
    label: str = Field(description="what a person reads; fill the address field with it")
    kind: Kind
    match: Match
    confidence: float = Field(ge=0, le=1, description="0..1, best first")
    street: str | None = None
    housenumber: str | None = None
    note: str | None = Field(
        default=None, description='e.g. "No 51 here: nearest is 53" for a nearest_number match'
    )
    distance_m: float | None = Field(
        default=None, description="from `near` (forward) or the point asked (reverse)"
    )


class GeocodeFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    geometry: GeoPoint
    properties: GeocodeProperties

    @classmethod
    def of(cls, hit: GeocodeHit) -> GeocodeFeature:
        return cls(
            geometry=GeoPoint(coordinates=(round(hit.lon, 7), round(hit.lat, 7))),
            # The hit's fields of the same names (pydantic reads the dataclass's attributes).
            properties=GeocodeProperties.model_validate(hit, from_attributes=True),
        )


class GeocodeCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[GeocodeFeature]

    @classmethod
    def of(cls, hits: list[GeocodeHit]) -> GeocodeCollection:
        return cls(features=[GeocodeFeature.of(hit) for hit in hits])
