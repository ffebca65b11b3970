"""The SQL of geocoding: building the index, searching it forward and in reverse.

Text is normalised in the database by `geocode_norm` (migration 0011): lower case, no
accents (`unaccent`: "Hämeentie" and "Hameentie" are one), punctuation as spaces. It is
IMMUTABLE, so `geocode_norm(%(q)s)` is folded to a constant at planning time and the
trigram index (`geocode_names_*_search_idx`) answers `%` (similarity) and `<%` (word
similarity). Rows arrive as JSON (`jsonb_to_recordset`): one statement per few thousand.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg.types.json import Jsonb

from responders.db.gateway import Conn, Database, Row

__all__ = [
    "add_entries",
    "add_street_segments",
    "count_entries",
    "delete_entries",
    "delete_source",
    "ilike_search",
    "merge_street_segments",
    "nearest_address",
    "nearest_street",
    "prefer_indexes",
    "record_source",
    "refresh_names",
    "search_addresses",
    "search_names",
    "segment_wkt",
    "source_digests",
    "source_replaces_osm",
]

_SOURCE_DIGESTS = "SELECT source, digest FROM geocode_sources"
_REGISTER_REPLACES_OSM = (
    "SELECT coalesce((SELECT replaces_osm FROM geocode_sources WHERE source = 'register'), false)"
)
_RECORD_SOURCE = """
    INSERT INTO geocode_sources (source, digest, entries, replaces_osm)
    VALUES (%(source)s, %(digest)s, %(entries)s, %(replaces_osm)s)
    ON CONFLICT (source) DO UPDATE SET digest = excluded.digest, entries = excluded.entries,
        replaces_osm = excluded.replaces_osm, built_at = now()
    """
_DELETE_SOURCE = "DELETE FROM geocode_sources WHERE source = %(source)s"
_DELETE_ENTRIES = """
    DELETE FROM geocode_entries WHERE source = %(source)s AND kind = ANY(%(kinds)s)
    """
_ADD_ENTRIES = """
    INSERT INTO geocode_entries (kind, source, label, name, names, street, street_key,
        housenumber, house_key, house_lo, house_hi, postcode, city, location)
    SELECT r.kind, r.source, r.label, r.name, coalesce(r.names, '{}'), r.street,
           geocode_norm(r.street), r.housenumber, r.house_key, r.house_lo, r.house_hi,
           r.postcode, r.city, ST_SetSRID(ST_MakePoint(r.lon, r.lat), 4326)::geography
    FROM jsonb_to_recordset(%(rows)s) AS r(kind text, source text, label text, name text,
        names text[], street text, housenumber text, house_key text, house_lo integer,
        house_hi integer, postcode text, city text, lat float8, lon float8)
    """
# Segments wait in a table of the build's transaction until all are in, then merge.
_CREATE_SEGMENTS = """
    CREATE TEMP TABLE IF NOT EXISTS geocode_segments (names text[], line geometry)
    ON COMMIT DROP
    """
_ADD_SEGMENTS = """
    INSERT INTO geocode_segments (names, line)
    SELECT r.names, ST_GeomFromText(r.wkt, 4326)
    FROM jsonb_to_recordset(%(rows)s) AS r(names text[], wkt text)
    """
# The segments of one name within ~300 m of each other become one street: a long street
# is one row, and two towns' "Koulukatu" stay two. Its point is on the street, mid-way.
_MERGE_STREET_SEGMENTS = """
    WITH clustered AS (
        SELECT names, line,
               ST_ClusterDBSCAN(line, eps := 0.004, minpoints := 1)
                   OVER (PARTITION BY names) AS cluster
        FROM geocode_segments
    ), merged AS (
        SELECT names, ST_LineMerge(ST_Collect(line)) AS shape
        FROM clustered GROUP BY names, cluster
    )
    INSERT INTO geocode_entries (kind, source, label, name, names, street, street_key,
                                 location, shape)
    SELECT 'street', 'osm', names[1], names[1], names, names[1], geocode_norm(names[1]),
           ST_ClosestPoint(shape, ST_Centroid(shape))::geography, shape::geography
    FROM merged
    """
# Every name a search may reach: places' and streets' names lead to them; a street's names
# (each of them: Finnish or Swedish) and an address's street lead to that street's
# addresses by `street_key` (what `geocode_norm` makes of a street name).
_REFRESH_NAMES = """
    WITH fresh AS (
        SELECT e.id AS entry_id, NULL::text AS street_key, geocode_norm(n) AS search
        FROM geocode_entries e, unnest(e.names) n WHERE e.kind = 'place'
        UNION
        SELECT e.id, geocode_norm(k), geocode_norm(n)
        FROM geocode_entries e, unnest(e.names) n, unnest(e.names) k WHERE e.kind = 'street'
        UNION
        SELECT NULL, e.street_key, geocode_norm(n)
        FROM geocode_entries e, unnest(e.street || e.names) n WHERE e.kind = 'address'
    ), gone AS (
        DELETE FROM geocode_names
    )
    INSERT INTO geocode_names (entry_id, street_key, search)
    SELECT entry_id, street_key, search FROM fresh WHERE search <> ''
    """
_ANALYZE = "ANALYZE geocode_entries, geocode_names"
_COUNT_ENTRIES = "SELECT kind, source, count(*) AS n FROM geocode_entries GROUP BY kind, source"

_POINT = "ST_SetSRID(ST_MakePoint(%(lon)s::float8, %(lat)s::float8), 4326)::geography"
_NEAR = "ST_SetSRID(ST_MakePoint(%(near_lon)s::float8, %(near_lat)s::float8), 4326)::geography"
# How well a stored name matches the typed one, 0..1: whole-name similarity, the typed text
# as a word of the name (word similarity), a prefix ("aleksanterink") almost as good as all.
_SCORE = """greatest(
        similarity(n.search, geocode_norm(%(text)s)),
        word_similarity(geocode_norm(%(text)s), n.search) * 0.95,
        CASE WHEN starts_with(n.search, geocode_norm(%(text)s))
             THEN 0.8 + 0.2 * similarity(n.search, geocode_norm(%(text)s)) ELSE 0 END)"""
# Similar (trigrams) or a prefix: both answered by the trigram index. (Word similarity
# `<%` only ranks: it cannot use a partial index and costs a scan of every name.) The
# normalised text holds no LIKE wildcards: `geocode_norm` turns them into spaces.
_MATCHES = """(n.search %% geocode_norm(%(text)s)
              OR n.search LIKE geocode_norm(%(text)s) || '%%')"""
# The trigram operators are declared as cheap as `=`, so on a small index the planner
# scans every name instead, computing trigrams for each: ten times slower here.
_PREFER_INDEXES = "SET LOCAL enable_seqscan = off"
_COLUMNS = """e.id, e.kind, e.label, e.name, e.street, e.housenumber, e.house_key,
        e.house_lo, e.house_hi, e.postcode, e.city, e.source,
        ST_Y(e.location::geometry) AS lat, ST_X(e.location::geometry) AS lon"""
_ENTRY_COLUMNS = f"{_COLUMNS}, ST_Distance(e.location, {_NEAR}) AS distance_m"
# The streets whose names match best, then on each the addresses with the wanted number
# first, the nearest numbers next, and among equals the one nearest the focus.
_SEARCH_ADDRESSES = f"""
    WITH keys AS (
        SELECT n.street_key, max({_SCORE}) AS score
        FROM geocode_names n
        WHERE n.street_key IS NOT NULL AND {_MATCHES}
        GROUP BY n.street_key ORDER BY score DESC LIMIT %(keys)s
    )
    SELECT k.score, a.*
    FROM keys k CROSS JOIN LATERAL (
        SELECT {_ENTRY_COLUMNS}
        FROM geocode_entries e
        WHERE e.kind = 'address' AND e.street_key = k.street_key
        ORDER BY (e.house_lo <= %(number)s AND %(number)s <= e.house_hi) DESC,
                 e.house_key = %(house_key)s DESC,
                 least(abs(e.house_lo - %(number)s), abs(e.house_hi - %(number)s)),
                 e.location <-> {_NEAR}
        LIMIT %(per_street)s
    ) a
    ORDER BY k.score DESC
    """  # noqa: S608 - fragments are constants of this module, values are parameters
_SEARCH_NAMES = f"""
    SELECT m.score, {_ENTRY_COLUMNS}
    FROM (
        SELECT n.entry_id, max({_SCORE}) AS score
        FROM geocode_names n
        WHERE n.entry_id IS NOT NULL AND {_MATCHES}
        GROUP BY n.entry_id ORDER BY score DESC LIMIT %(limit)s
    ) m JOIN geocode_entries e ON e.id = m.entry_id
    ORDER BY m.score DESC
    """  # noqa: S608 - fragments are constants of this module, values are parameters
_NEAREST_ADDRESS = f"""
    SELECT {_COLUMNS}, ST_Distance(e.location, {_POINT}) AS distance_m
    FROM geocode_entries e
    WHERE e.kind = 'address' AND ST_DWithin(e.location, {_POINT}, %(max_m)s)
    ORDER BY e.location <-> {_POINT}
    LIMIT 1
    """  # noqa: S608 - fragments are constants of this module, values are parameters
# The point returned is the street's point nearest to the asked one.
_NEAREST_STREET = f"""
    SELECT e.id, e.kind, e.label, e.name, e.street, NULL AS housenumber, e.city,
           e.postcode, ST_Y(p.point) AS lat, ST_X(p.point) AS lon,
           ST_Distance(e.shape, {_POINT}) AS distance_m
    FROM geocode_entries e,
         LATERAL (SELECT ST_ClosestPoint(e.shape::geometry, {_POINT}::geometry) AS point) p
    WHERE e.kind = 'street' AND ST_DWithin(e.shape, {_POINT}, %(max_m)s)
    ORDER BY e.shape <-> {_POINT}
    LIMIT 1
    """  # noqa: S608 - fragments are constants of this module, values are parameters
# The obvious other way, for the benchmark only: a substring scan of the entries' labels.
_ILIKE_SEARCH = """
    SELECT e.id, e.label, ST_Y(e.location::geometry) AS lat, ST_X(e.location::geometry) AS lon
    FROM geocode_entries e
    WHERE e.label ILIKE '%%' || %(text)s || '%%'
    ORDER BY length(e.label)
    LIMIT %(limit)s
    """


async def source_digests(db: Database) -> dict[str, str]:
    """The digest each source was last built from."""
    return {row["source"]: row["digest"] for row in await db.rows(_SOURCE_DIGESTS)}


async def source_replaces_osm(conn: Conn | Database) -> bool:
    """Whether the imported register is the authority for addresses."""
    return bool(await conn.scalar(_REGISTER_REPLACES_OSM))


async def record_source(
    conn: Conn, source: str, digest: str, entries: int, *, replaces_osm: bool = False
) -> None:
    await conn.execute(
        _RECORD_SOURCE,
        {"source": source, "digest": digest, "entries": entries, "replaces_osm": replaces_osm},
    )


async def delete_source(conn: Conn, source: str) -> None:
    await conn.execute(_DELETE_SOURCE, {"source": source})


async def delete_entries(conn: Conn, source: str, kinds: Sequence[str]) -> int:
    return await conn.execute(_DELETE_ENTRIES, {"source": source, "kinds": list(kinds)})


async def add_entries(conn: Conn, rows: list[dict[str, Any]]) -> int:
    """Entries as dicts of `_ADD_ENTRIES`' record columns."""
    return await conn.execute(_ADD_ENTRIES, {"rows": Jsonb(rows)})


async def add_street_segments(conn: Conn, rows: list[dict[str, Any]]) -> None:
    """Segments as {"names": [...], "wkt": "LINESTRING(...)"}, merged by the next call."""
    await conn.execute(_CREATE_SEGMENTS)
    await conn.execute(_ADD_SEGMENTS, {"rows": Jsonb(rows)})


async def merge_street_segments(conn: Conn) -> int:
    """The streets made of the segments added in this transaction."""
    await conn.execute(_CREATE_SEGMENTS)
    return await conn.execute(_MERGE_STREET_SEGMENTS)


async def refresh_names(conn: Conn) -> int:
    """The names table anew from the entries, and fresh planner statistics of both: a
    build changes every row, and searches planned on the old counts pick worse plans."""
    count = await conn.execute(_REFRESH_NAMES)
    await conn.execute(_ANALYZE)
    return count


async def count_entries(db: Database) -> dict[tuple[str, str], int]:
    return {(r["kind"], r["source"]): r["n"] for r in await db.rows(_COUNT_ENTRIES)}


def _near(near: tuple[float, float] | None) -> dict[str, float | None]:
    return {"near_lat": near[0] if near else None, "near_lon": near[1] if near else None}


async def prefer_indexes(conn: Conn) -> None:
    """For the rest of this transaction: searches read the trigram indexes."""
    await conn.execute(_PREFER_INDEXES)


async def search_addresses(
    conn: Conn,
    street: str,
    number: int,
    house_key: str,
    near: tuple[float, float] | None,
    *,
    keys: int = 6,
    per_street: int = 8,
) -> list[Row]:
    """Addresses on the streets best matching `street`, the wanted number first."""
    params = {
        "text": street,
        "number": number,
        "house_key": house_key,
        "keys": keys,
        "per_street": per_street,
        **_near(near),
    }
    return await conn.rows(_SEARCH_ADDRESSES, params)


async def search_names(
    conn: Conn, text: str, near: tuple[float, float] | None, limit: int
) -> list[Row]:
    """Places and streets whose names best match `text`."""
    return await conn.rows(_SEARCH_NAMES, {"text": text, "limit": limit, **_near(near)})


async def nearest_address(db: Database, lat: float, lon: float, max_m: float) -> Row | None:
    return await db.first(_NEAREST_ADDRESS, {"lat": lat, "lon": lon, "max_m": max_m})


async def nearest_street(db: Database, lat: float, lon: float, max_m: float) -> Row | None:
    return await db.first(_NEAREST_STREET, {"lat": lat, "lon": lon, "max_m": max_m})


async def ilike_search(db: Database, text: str, limit: int) -> list[Row]:
    return await db.rows(_ILIKE_SEARCH, {"text": text, "limit": limit})


def segment_wkt(line: Sequence[tuple[float, float]]) -> str:
    """A line of (lon, lat) as WKT for `add_street_segments`."""
    return "LINESTRING(" + ", ".join(f"{lon!r} {lat!r}" for lon, lat in line) + ")"
