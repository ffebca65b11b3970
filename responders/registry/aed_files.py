"""Parse AED registry files (GeoJSON, CSV) into validated rows, naming the first bad row.

Parsing is all-or-nothing by construction: nothing is written until every row validated.
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from pydantic import ValidationError

from responders.errors import InvalidInput
from responders.schemas.aeds import AedCreate

__all__ = ["parse_aed_file", "parse_hours"]

_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_SPAN = re.compile(r"^\s*(?P<days>[a-z,\- ]+?)\s+(?P<start>\d\d:\d\d)-(?P<end>\d\d:\d\d)\s*$")


def parse_aed_file(
    content: bytes, filename: str | None, content_type: str | None
) -> list[AedCreate]:
    text = _decode(content)
    if _looks_like_json(text, filename, content_type):
        return _validate_all(_geojson_rows(text), first_row=1)
    return _validate_all(_csv_rows(text), first_row=2)


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput("the file is not UTF-8 text", field="file") from exc


def _looks_like_json(text: str, filename: str | None, content_type: str | None) -> bool:
    name = (filename or "").lower()
    if name.endswith((".geojson", ".json")) or "json" in (content_type or ""):
        return True
    return not name.endswith(".csv") and text.lstrip().startswith("{")


def _geojson_rows(text: str) -> list[dict[str, Any]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"not valid JSON: {exc.msg} (line {exc.lineno})", field="file") from exc
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise InvalidInput("expected a GeoJSON FeatureCollection", field="file")
    return [_feature_row(feature) for feature in document.get("features") or []]


def _feature_row(feature: Any) -> dict[str, Any]:
    geometry = (feature or {}).get("geometry") or {}
    row = dict((feature or {}).get("properties") or {})
    coordinates = geometry.get("coordinates")
    if geometry.get("type") == "Point" and isinstance(coordinates, list) and len(coordinates) >= 2:
        row["location"] = {"lon": coordinates[0], "lat": coordinates[1]}
    else:
        row["location"] = None
    return row


def _csv_rows(text: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    missing = {"lat", "lon"} - set(reader.fieldnames or [])
    if missing:
        raise InvalidInput(f"CSV header lacks {', '.join(sorted(missing))}", field="file")
    return [_csv_row(record) for record in reader]


def _csv_row(record: dict[str, str | None]) -> dict[str, Any]:
    row: dict[str, Any] = {k: v for k, v in record.items() if k and v not in (None, "")}
    row["location"] = {"lat": row.pop("lat", None), "lon": row.pop("lon", None)}
    return row


def _validate_all(rows: list[dict[str, Any]], first_row: int) -> list[AedCreate]:
    if not rows:
        raise InvalidInput("the file holds no AEDs", field="file")
    return [_validate(row, number) for number, row in enumerate(rows, start=first_row)]


def _validate(row: dict[str, Any], number: int) -> AedCreate:
    try:
        if isinstance(row.get("opening_hours"), str):
            row["opening_hours"] = parse_hours(row["opening_hours"])
        return AedCreate.model_validate(row)
    except (ValidationError, ValueError) as exc:
        field, message = _first_error(exc)
        raise InvalidInput(
            f"row {number}: {field}: {message}; nothing was imported",
            field=f"row {number}.{field}",
            row=number,
        ) from exc


def _first_error(exc: Exception) -> tuple[str, str]:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        return ".".join(str(part) for part in error["loc"]) or "row", error["msg"]
    return "opening_hours", str(exc)


def parse_hours(text: str) -> list[dict[str, Any]]:
    """`"mon-fri 08:00-18:00; sat 10:00-14:00"` or `"24/7"` → windows."""
    if text.strip().lower() in ("24/7", "always"):
        return [{"days": list(_DAYS), "start": "00:00", "end": "24:00"}]
    windows = []
    for part in filter(None, (p.strip() for p in text.lower().split(";"))):
        match = _SPAN.match(part)
        if not match:
            raise ValueError(
                f"cannot read opening hours {part!r}; write e.g. 'mon-fri 08:00-18:00'"
            )
        windows.append({"days": _days(match["days"]), "start": match["start"], "end": match["end"]})
    return windows


def _days(spec: str) -> list[str]:
    days: list[str] = []
    for item in (s.strip() for s in spec.split(",")):
        first, _, last = item.partition("-")
        if first not in _DAYS or (last and last not in _DAYS):
            raise ValueError(f"unknown day in {spec!r}; use mon, tue, wed, thu, fri, sat, sun")
        begin, end = _DAYS.index(first), _DAYS.index(last or first)
        days.extend(_DAYS[begin : end + 1] if begin <= end else _DAYS[begin:] + _DAYS[: end + 1])
    return days
