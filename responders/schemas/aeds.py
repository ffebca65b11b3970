"""AED registry requests and responses."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, Field, ValidationInfo, field_validator
from pydantic.json_schema import SkipJsonSchema

from responders.schemas.common import GeoPoint, LatLon, Strict, Window

__all__ = ["AedCreate", "AedImportResult", "AedPublic", "AedUpdate"]

Access = Literal["public", "restricted"]
# `retired`: kept for history and shown as such, never used for dispatch again.
AedStatus = Literal["in_service", "out", "retired"]
Text200 = Annotated[str, Field(max_length=200)]
Code = Annotated[str, Field(min_length=1, max_length=32)]


class AedCreate(Strict):
    location: LatLon
    address: Text200 | None = None
    description: Annotated[str | None, Field(max_length=1000)] = None
    access: Access = "public"
    # Checked even when left out, so that a restricted AED without hours is named.
    opening_hours: Annotated[list[Window], Field(max_length=50, validate_default=True)] = []
    cabinet_code: Code | None = None
    status: AedStatus = "in_service"
    external_ref: Text200 | None = None

    @field_validator("opening_hours")
    @classmethod
    def _restricted_needs_hours(cls, value: list[Window], info: ValidationInfo) -> list[Window]:
        if info.data.get("access") == "restricted" and not value:
            raise ValueError("A restricted AED needs its opening hours.")
        return value


def _not_null(value: object) -> object:
    # Runs only for a value that was sent: a field left out keeps the stored value.
    if value is None:
        raise ValueError("This field cannot be emptied; leave it out to keep its value.")
    return value


def _no_default(schema: dict[str, Any]) -> None:
    # The schema documents the value a caller may send; null is not one of them.
    schema.pop("default", None)


_T = TypeVar("_T")
# A value, or left out: an explicit null is refused with the field named.
Kept = Annotated[
    _T | SkipJsonSchema[None], AfterValidator(_not_null), Field(json_schema_extra=_no_default)
]


class AedUpdate(Strict):
    """Fields left out stay as they are. `address`, `description` and `cabinet_code` may be
    cleared with null; the others always have a value (the schema says so too)."""

    location: Kept[LatLon] = None
    address: Text200 | None = None
    description: Annotated[str | None, Field(max_length=1000)] = None
    access: Kept[Access] = None
    opening_hours: Kept[Annotated[list[Window], Field(max_length=50)]] = None
    cabinet_code: Code | None = None
    status: Kept[AedStatus] = None


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
