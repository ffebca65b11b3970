"""AED registry requests and responses."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from responders.schemas.common import GeoPoint, LatLon, Strict, Window

__all__ = ["AedCreate", "AedImportResult", "AedPublic", "AedUpdate"]

Access = Literal["public", "restricted"]
AedStatus = Literal["in_service", "out"]
Text200 = Annotated[str, Field(max_length=200)]
Code = Annotated[str, Field(min_length=1, max_length=32)]


class AedCreate(Strict):
    location: LatLon
    address: Text200 | None = None
    description: Annotated[str | None, Field(max_length=1000)] = None
    access: Access = "public"
    opening_hours: Annotated[list[Window], Field(max_length=50)] = []
    cabinet_code: Code | None = None
    status: AedStatus = "in_service"
    external_ref: Text200 | None = None

    @model_validator(mode="after")
    def _restricted_needs_hours(self) -> AedCreate:
        if self.access == "restricted" and not self.opening_hours:
            raise ValueError("opening_hours: a restricted AED needs its opening hours")
        return self


class AedUpdate(Strict):
    location: LatLon | None = None
    address: Text200 | None = None
    description: Annotated[str | None, Field(max_length=1000)] = None
    access: Access | None = None
    opening_hours: Annotated[list[Window] | None, Field(max_length=50)] = None
    cabinet_code: Code | None = None
    status: AedStatus | None = None


class AedPublic(BaseModel):
    id: int
    location: GeoPoint
    address: str | None
    description: str | None
    access: Access
    opening_hours: list[Window]
    status: AedStatus
    external_ref: str | None
    cabinet_code: str | None = Field(
        default=None, description="only for coordinators; volunteers see it when sent to fetch"
    )
    distance_m: float | None = None
    updated_at: dt.datetime


class AedImportResult(BaseModel):
    imported: int
