"""Filling the index: from the OSM extract (at every start, rebuilt only when the extract
changed) and from an address register's CSV (`ehbo geocode import`)."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import logging
import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from responders.db.gateway import Conn, Database
from responders.errors import InvalidInput
from responders.geocode import store
from responders.geocode._osm import Extract, OsmAddress, OsmPlace, read_extract
from responders.geocode._text import parse_housenumber
from routing._cache import file_digest

__all__ = [
    "BuildReport",
    "build_from_extract",
    "import_register",
    "read_register",
    "remove_register",
]

log = logging.getLogger(__name__)

T = TypeVar("T")
# Bump when what is read from an extract changes: every index is rebuilt once.
_FORMAT = "geocode-1"
_CHUNK = 2_000
_COLUMNS = ("street", "housenumber", "postcode", "city", "lat", "lon")


@dataclass(frozen=True, slots=True)
class BuildReport:
    built: bool
    addresses: int = 0
    streets: int = 0
    places: int = 0


def _chunks(rows: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(rows), _CHUNK):
        yield rows[start : start + _CHUNK]


async def build_from_extract(
    db: Database, path: Path, *, cache_dir: Path | None = None, force: bool = False
) -> BuildReport:
    """Index the extract's addresses, streets and places, unless the index already holds
    this very extract (by its sha256). OSM's rows are replaced in one transaction: searches
    see the old index until the new one is complete. A register's rows stay; when it
    replaces OSM's addresses, only streets and places are taken from the extract."""
    replaces_osm = await store.source_replaces_osm(db)
    sha = await asyncio.to_thread(file_digest, path, cache_dir)
    digest = f"{_FORMAT}:{sha}" + (":without-addresses" if replaces_osm else "")
    if not force and (await store.source_digests(db)).get("osm") == digest:
        log.info("geocode: the index of %s is up to date", path.name)
        return BuildReport(built=False)
    started = time.monotonic()
    extract: Extract = await asyncio.to_thread(read_extract, path)
    addresses = [] if replaces_osm else [_address_row(a) for a in extract.addresses]
    places = [_place_row(p) for p in extract.places]
    segments = _segment_rows(extract)
    async with db.transaction() as conn:
        await store.delete_entries(conn, "osm", ["address", "street", "place"])
        for chunk in _chunks(addresses + places):
            await store.add_entries(conn, list(chunk))
        for chunk in _chunks(segments):
            await store.add_street_segments(conn, list(chunk))
        streets = await store.merge_street_segments(conn)
        await store.refresh_names(conn)
        total = len(addresses) + len(places) + streets
        await store.record_source(conn, "osm", digest, total)
    log.info(
        "geocode: indexed %d addresses, %d streets, %d places of %s in %.1f s",
        len(addresses),
        streets,
        len(places),
        path.name,
        time.monotonic() - started,
    )
    return BuildReport(True, len(addresses), streets, len(places))


def _label(street: str, housenumber: str, city: str | None) -> str:
    return f"{street} {housenumber}" + (f", {city}" if city else "")


def _address_row(address: OsmAddress) -> dict[str, Any]:
    number = address.number
    return {
        "kind": "address",
        "source": "osm",
        "label": _label(address.street, number.text, address.city),
        "names": list(address.alternates),
        "street": address.street,
        "housenumber": number.text,
        "house_key": number.key,
        "house_lo": number.lo,
        "house_hi": number.hi,
        "postcode": address.postcode,
        "city": address.city,
        "lat": address.lat,
        "lon": address.lon,
    }


def _place_row(place: OsmPlace) -> dict[str, Any]:
    name = place.names[0]
    label = name
    if place.street and place.housenumber:
        label = f"{name}, {place.street} {place.housenumber}"
    return {
        "kind": "place",
        "source": "osm",
        "label": label,
        "name": name,
        "names": list(place.names),
        "city": place.city,
        "lat": place.lat,
        "lon": place.lon,
    }


def _segment_rows(extract: Extract) -> list[dict[str, Any]]:
    """Segments with every name any segment of their street has (name:sv is often tagged
    on some segments only), so that the merged street knows them all."""
    names: dict[str, list[str]] = {}
    for segment in extract.streets:
        known = names.setdefault(segment.names[0], [])
        known.extend(n for n in segment.names if n not in known)
    return [{"names": names[s.names[0]], "wkt": store.segment_wkt(s.line)} for s in extract.streets]


# Registers -------------------------------------------------------------------------------


def read_register(path: Path) -> list[dict[str, Any]]:
    """The rows of a register CSV (`street,housenumber,postcode,city,lat,lon`, a header
    line first). Every row is checked; all bad rows are reported at once, by line number."""
    problems: list[str] = []
    rows: list[dict[str, Any]] = []
    with path.open(newline="", encoding="utf-8-sig") as file:
        reader = csv.DictReader(file)
        header = [name.strip().lower() for name in reader.fieldnames or []]
        missing = [name for name in _COLUMNS if name not in header]
        if missing:
            raise InvalidInput(
                f"{path.name}: the header line must name the columns {','.join(_COLUMNS)}; "
                f"missing: {', '.join(missing)}",
                field="file",
            )
        reader.fieldnames = header
        for record in reader:
            line = reader.line_num
            row, problem = _register_row(record)
            if problem:
                problems.append(f"line {line}: {problem}")
            elif row is not None:
                rows.append(row)
    if problems:
        shown = "; ".join(problems[:20]) + ("; …" if len(problems) > 20 else "")
        raise InvalidInput(
            f"{path.name}: {len(problems)} bad row(s), nothing was imported: {shown}",
            field="file",
        )
    if not rows:
        raise InvalidInput(f"{path.name}: no addresses in the file", field="file")
    return rows


def _register_row(record: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    values = {name: (record.get(name) or "").strip() for name in _COLUMNS}
    if not values["street"]:
        return None, "the street is empty"
    number = parse_housenumber(values["housenumber"])
    if number is None:
        return None, f"the house number {values['housenumber']!r} holds no number"
    try:
        lat, lon = float(values["lat"]), float(values["lon"])
    except ValueError:
        return None, f"lat and lon must be numbers, not {values['lat']!r} and {values['lon']!r}"
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return None, "lat must be within ±90 and lon within ±180"
    city = values["city"] or None
    return {
        "kind": "address",
        "source": "register",
        "label": _label(values["street"], number.text, city),
        "names": [],
        "street": values["street"],
        "housenumber": number.text,
        "house_key": number.key,
        "house_lo": number.lo,
        "house_hi": number.hi,
        "postcode": values["postcode"] or None,
        "city": city,
        "lat": lat,
        "lon": lon,
    }, None


async def import_register(db: Database, path: Path, *, replace_osm: bool = False) -> int:
    """Replace the imported register with this file's addresses (in one transaction); with
    `replace_osm`, OSM's addresses go too (its streets and places stay) and later builds
    from the extract leave them out. The number of addresses imported."""
    rows = await asyncio.to_thread(read_register, path)
    digest = await asyncio.to_thread(lambda: hashlib.sha256(path.read_bytes()).hexdigest())

    async def work(conn: Conn) -> None:
        await store.delete_entries(conn, "register", ["address"])
        if replace_osm:
            await store.delete_entries(conn, "osm", ["address"])
        for chunk in _chunks(rows):
            await store.add_entries(conn, list(chunk))
        await store.refresh_names(conn)
        await store.record_source(conn, "register", digest, len(rows), replaces_osm=replace_osm)

    await db.run(work)
    log.info("geocode: imported %d addresses from %s", len(rows), path.name)
    return len(rows)


async def remove_register(db: Database) -> None:
    """The imported register's addresses go; OSM's come back at the next build."""

    async def work(conn: Conn) -> None:
        await store.delete_entries(conn, "register", ["address"])
        await store.delete_source(conn, "register")
        await store.refresh_names(conn)

    await db.run(work)
