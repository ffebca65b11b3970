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
from responders.schemas.problems import human_message

__all__ = ["parse_aed_file", "parse_hours"]

_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_SPAN = re.compile(r"^\s*(?P<days>[a-z,\- ]+?)\s+(?P<start>\d\d:\d\d)-(?P<end>\d\d:\d\d)\s*$")


def parse_aed_file(
    content: bytes, filename: str | None, content_type: str | None
) -> list[AedCreate]:
    text = _decode(content)
    if _looks_like_json(text, filename, content_type):
        return _validate_all(_geojson_rows(text))
    return _validate_all(_csv_rows(text))


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


# ---------- GeoJSON ----------


def _geojson_rows(text: str) -> list[tuple[int, dict[str, Any]]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"not valid JSON: {exc.msg} (line {exc.lineno})", field="file") from exc
    except RecursionError as exc:
        # A registry is flat; thousands of nested brackets are not one.
        raise InvalidInput("the JSON is nested too deeply to be a registry", field="file") from exc
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise InvalidInput("expected a GeoJSON FeatureCollection", field="file")
    features = document.get("features") or []
    if not isinstance(features, list):
        raise InvalidInput("the FeatureCollection's features must be a list", field="file")
    return [(number, _feature_row(f, number)) for number, f in enumerate(features, start=1)]


def _feature_row(feature: Any, number: int) -> dict[str, Any]:
    if not isinstance(feature, dict):
        raise _row_error(number, "feature", "A feature must be a GeoJSON object.")
    geometry, properties = feature.get("geometry"), feature.get("properties")
    if not isinstance(geometry, dict):
        raise _row_error(number, "geometry", "A feature needs a Point geometry.")
    if properties is not None and not isinstance(properties, dict):
        raise _row_error(number, "properties", "The properties must be an object.")
    row = dict(properties or {})
    coordinates = geometry.get("coordinates")
    if geometry.get("type") == "Point" and isinstance(coordinates, list) and len(coordinates) >= 2:
        row["location"] = {"lon": coordinates[0], "lat": coordinates[1]}
    else:
        row["location"] = None
    return row


# ---------- CSV (as spreadsheets write it) ----------

# Spreadsheets write commas, or semicolons where the comma is the decimal mark (NL, FI).
_DELIMITERS = (",", ";", "\t")
_NEEDED = {"lat", "lon"}


def _csv_rows(text: str) -> list[tuple[int, dict[str, Any]]]:
    try:
        delimiter = _delimiter(text)
    except csv.Error as exc:
        raise InvalidInput(f"cannot read the CSV header ({exc})", field="file") from exc
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return _read_csv(reader, delimiter)
    except csv.Error as exc:
        raise InvalidInput(
            f"row {reader.line_num}: cannot read the CSV ({exc}); nothing was imported",
            field=f"row {reader.line_num}",
            row=reader.line_num,
        ) from exc


def _read_csv(reader: Any, delimiter: str) -> list[tuple[int, dict[str, Any]]]:
    first: list[str] = next((cells for cells in reader if any(c.strip() for c in cells)), [])
    header = [name.strip().lower() for name in first]
    _check_header(header)
    rows = []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue  # a blank line, or a row of empty cells
        number = reader.line_num
        if len(cells) != len(header):
            raise InvalidInput(
                f"row {number} has {len(cells)} cells but the header has {len(header)}; "
                "nothing was imported",
                field=f"row {number}",
                row=number,
            )
        rows.append((number, _csv_row(dict(zip(header, cells, strict=True)), delimiter)))
    return rows


def _delimiter(text: str) -> str:
    """The separator whose header names both `lat` and `lon`."""
    # Spreadsheets may write empty rows above the header as bare separators (";;;").
    first_line = next((line for line in text.splitlines() if line.strip(" \t,;")), "")
    for delimiter in _DELIMITERS:
        header = next(csv.reader([first_line], delimiter=delimiter), [])
        if {name.strip().lower() for name in header} >= _NEEDED:
            return delimiter
    raise InvalidInput(
        "the CSV header needs columns lat and lon, separated by commas, semicolons or tabs",
        field="file",
    )


def _check_header(header: list[str]) -> None:
    seen: dict[str, int] = {}
    for column, name in enumerate(header, start=1):
        if name in seen:
            # Which of the two is meant cannot be known; taking either would be a guess.
            raise InvalidInput(
                f"the header names {name!r} twice (columns {seen[name]} and {column}); "
                "nothing was imported",
                field="file",
            )
        if name:
            seen[name] = column


def _csv_row(record: dict[str, str], delimiter: str) -> dict[str, Any]:
    row: dict[str, Any] = {k: v for k, v in record.items() if k and v.strip() != ""}
    lat, lon = row.pop("lat", None), row.pop("lon", None)
    if delimiter != ",":
        # With semicolons or tabs a comma in a number is the decimal mark (60,1699).
        lat, lon = _decimal_point(lat), _decimal_point(lon)
    row["location"] = {"lat": lat, "lon": lon}
    return row


def _decimal_point(value: str | None) -> str | None:
    if value is not None and value.count(",") == 1 and "." not in value:
        return value.replace(",", ".")
    return value


# ---------- rows ----------


def _validate_all(rows: list[tuple[int, dict[str, Any]]]) -> list[AedCreate]:
    if not rows:
        raise InvalidInput("the file holds no AEDs", field="file")
    return [_validate(row, number) for number, row in rows]


def _validate(row: dict[str, Any], number: int) -> AedCreate:
    try:
        if isinstance(row.get("opening_hours"), str):
            row["opening_hours"] = parse_hours(row["opening_hours"])
        return AedCreate.model_validate(row)
    except (ValidationError, ValueError) as exc:
        field, message = _first_error(exc)
        raise _row_error(number, field, message) from exc


def _row_error(number: int, field: str, message: str) -> InvalidInput:
    return InvalidInput(
        f"row {number}: {field}: {message.rstrip('.')}; nothing was imported",
        field=f"row {number}.{field}",
        row=number,
    )


def _first_error(exc: Exception) -> tuple[str, str]:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        return ".".join(str(part) for part in error["loc"]) or "row", human_message(error)
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
