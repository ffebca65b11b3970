"""The sea as polygons, from the extract's own `natural=coastline` ways.

OpenMapTiles takes the sea from a worldwide shapefile we do not have offline. A coastline
way has the land on its left and the water on its right (OSM's rule), so the faces that the
coastline and the extract's bounding box cut out of the box can be told apart: sample points
just right of every coastline segment vote "water" for the face they fall in, points just
left of it vote "land".
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from shapely import LineString, Point, Polygon, box, get_parts, polygonize, unary_union
from shapely.ops import nearest_points

__all__ = ["Coord", "Coord4", "sea_polygons"]

Coord = tuple[float, float]  # (lon, lat)
Coord4 = tuple[float, float, float, float]  # (min_lon, min_lat, max_lon, max_lat)

# How far beside a coastline segment the votes are cast, in degrees of latitude (~1 m):
# well inside the face next to it, yet never across a neighbouring coastline.
_OFFSET_DEG = 1e-5


def sea_polygons(coastlines: Sequence[Sequence[Coord]], bounds: Coord4) -> list[Polygon]:
    """The water faces of `bounds` (min_lon, min_lat, max_lon, max_lat) that the coastline
    pieces (runs of consecutive nodes, each in OSM's direction) separate from the land."""
    runs = [run for run in coastlines if len(run) >= 2]
    if not runs:
        return []
    frame = box(*bounds)
    # A clipped extract cuts the coastline short of its bounding box: each loose end is
    # carried to the nearest point of the frame, so the faces close.
    edges = [_to_frame(run, frame) for run in runs]
    noded = unary_union([*edges, frame.exterior])
    faces = list(get_parts(polygonize(get_parts(noded))))
    votes = [0] * len(faces)
    scale = math.cos(math.radians((bounds[1] + bounds[3]) / 2)) or 1.0
    for run in runs:
        for (x0, y0), (x1, y1) in itertools.pairwise(run):
            dx, dy = (x1 - x0) * scale, y1 - y0
            length = math.hypot(dx, dy)
            if length == 0:
                continue
            # The right-hand normal, back in degrees of longitude for x.
            nx, ny = dy / length / scale, -dx / length
            mx, my = (x0 + x1) / 2, (y0 + y1) / 2
            _vote(faces, votes, Point(mx + nx * _OFFSET_DEG, my + ny * _OFFSET_DEG), +1)
            _vote(faces, votes, Point(mx - nx * _OFFSET_DEG, my - ny * _OFFSET_DEG), -1)
    return [face for face, vote in zip(faces, votes, strict=True) if vote > 0]


def _to_frame(run: Sequence[Coord], frame: Polygon) -> LineString:
    ring = frame.exterior
    start = nearest_points(ring, Point(run[0]))[0]
    end = nearest_points(ring, Point(run[-1]))[0]
    return LineString([(start.x, start.y), *run, (end.x, end.y)])


def _vote(faces: list[Polygon], votes: list[int], point: Point, weight: int) -> None:
    for index, face in enumerate(faces):
        if face.contains(point):
            votes[index] += weight
            return
