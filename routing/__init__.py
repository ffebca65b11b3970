"""OpenStreetMap -> walking graph; one-to-many walking times; routes with geometry.

Knows nothing of responders, HTTP or databases: coordinates in, times,
distances and geometries out. The service depends only on :class:`Router`::

    router = GraphRouter.from_file("Helsinki.osm.pbf")    # built once, then cached
    walks = router.walks_to([incident], max_seconds=900)   # one search, run now
    (seconds,) = walks.times_from(volunteers)              # later: list of s | None
    router.route(volunteer, incident, via=aed).to_geojson()
"""

from ._cache import cache_path, default_cache_dir, load_graph
from ._cli import build_command
from ._graph import WalkGraph
from ._options import BuildOptions
from ._osm import graph_from_osm_file
from ._osmnx import graph_from_bbox, graph_from_osmnx, graph_from_place
from ._protocol import Router, Walks
from ._router import DEFAULT_SNAP_LIMIT_M, GraphRouter, GraphWalks, Reach, Snapped, Unreachable
from ._streets import streets_geojson
from ._types import Point, Route, Step
from .errors import (
    CacheError,
    GraphBuildError,
    NoRoute,
    PointNotOnNetwork,
    RoutingError,
)

__all__ = [
    "DEFAULT_SNAP_LIMIT_M",
    "BuildOptions",
    "CacheError",
    "GraphBuildError",
    "GraphRouter",
    "GraphWalks",
    "NoRoute",
    "Point",
    "PointNotOnNetwork",
    "Reach",
    "Route",
    "Router",
    "RoutingError",
    "Snapped",
    "Step",
    "Unreachable",
    "WalkGraph",
    "Walks",
    "build_command",
    "cache_path",
    "default_cache_dir",
    "graph_from_bbox",
    "graph_from_osm_file",
    "graph_from_osmnx",
    "graph_from_place",
    "load_graph",
    "streets_geojson",
]
