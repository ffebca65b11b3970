"""Shapes shared by several resources: coordinates, weekly time windows, GeoJSON points."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["COORDINATE_DECIMALS", "GeoPoint", "LatLon", "Strict", "Weekday", "Window"]

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


class Strict(BaseModel):
    """Requests reject unknown fields and non-finite numbers: a typo must not pass silently."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        # PostgreSQL text cannot hold NUL; say so here rather than fail in the database.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


# Seven decimals of a degree are about a centimetre, finer than any position we are given.
COORDINATE_DECIMALS = 7


class LatLon(Strict):
    """A point, normalised here for every route that takes one, so that one place has one
    spelling: rounded to a centimetre (denormal floats such as 5e-324 become 0) and on the
    antimeridian always at -180. PostGIS's nearest-first (`<->`) index scans on geography
    fail with "index returned tuples in wrong order" when a point stored at +180 is
    searched from -180."""

    lat: Annotated[float, Field(ge=-90, le=90, description="latitude, WGS 84")]
    lon: Annotated[float, Field(ge=-180, le=180, description="longitude, WGS 84")]

    @field_validator("lat", "lon", mode="after")
    @classmethod
    def _centimetres(cls, value: float) -> float:
        # `+ 0.0` turns -0.0 into 0.0.
        return round(value, COORDINATE_DECIMALS) + 0.0

    @field_validator("lon", mode="after")
    @classmethod
    def _one_antimeridian(cls, value: float) -> float:
        return -180.0 if value == 180.0 else value


class Window(Strict):
    """A weekly window in the region's time zone; `end` before `start` runs past midnight."""

    # At least one day (checked below, to say so in words); the schema says minItems too.
    days: Annotated[list[Weekday], Field(max_length=7, json_schema_extra={"minItems": 1})]
    start: Annotated[str, Field(examples=["18:00"])]
    end: Annotated[str, Field(examples=["23:30"])]

    @field_validator("days")
    @classmethod
    def _some_day(cls, value: list[Weekday]) -> list[Weekday]:
        # Hours without days would be a window that never opens.
        if not value:
            raise ValueError("Choose at least one day for these hours.")
        return value

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not _CLOCK.match(value):
            raise ValueError("must be a time of day HH:MM (00:00 to 24:00)")
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> Window:
        if self.start == self.end:
            raise ValueError("start and end must differ")
        if self.start == "24:00":
            raise ValueError("start must be before 24:00")
        return self


class GeoPoint(BaseModel):
    """GeoJSON Point (RFC 7946): coordinates are [lon, lat]."""

    type: Literal["Point"] = "Point"
    coordinates: tuple[float, float]
