"""Vector tiles for the pages' maps, built offline from the routing extract.

`build_tiles` cleans the extract (`_clean.py`, the sea from its coastline in `_sea.py`) and
cuts it with tilemaker (Debian's `tilemaker`, OpenMapTiles profile in config.json and
process.lua) into an MBTiles file, cached by the extract's content; `store.py` reads it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from responders.errors import TileBuildError
from responders.settings import MapSettings

from ._build import FORMAT_VERSION, build_tiles, default_tiles_dir, tiles_path
from ._clean import CleanStats, clean_extract
from .store import TileSet, open_tileset

__all__ = [
    "FORMAT_VERSION",
    "CleanStats",
    "TileSet",
    "build_tiles",
    "clean_extract",
    "default_tiles_dir",
    "open_tileset",
    "tiles_for",
    "tiles_path",
]

log = logging.getLogger(__name__)


def tiles_for(settings: MapSettings, extract: Path) -> Path | None:
    """The MBTiles the service will serve: the configured file, else the extract's own tiles
    (built once), else None (an external tile server or style draws the map, building is
    off, tilemaker is missing or failed: the pages then fall back)."""
    if settings.tiles_file is not None:
        return settings.tiles_file
    if settings.tile_url or settings.style_url or not settings.build_tiles:
        return None
    try:
        return build_tiles(extract, settings.cache_dir or default_tiles_dir())
    except TileBuildError as exc:
        # A map without tiles still works (streets only): the service starts anyway.
        log.error("tiles: %s; the maps draw streets only", exc.detail)
        return None
