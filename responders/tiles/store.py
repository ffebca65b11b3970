"""The tiles' store: an MBTiles file (SQLite), read by `{z}/{x}/{y}`, and its metadata.

MBTiles stores rows in the TMS scheme (y counted from the south), so y is flipped here.
The file is opened read-only and immutable: nothing writes it while the service runs (a new
build is a new file).
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

__all__ = ["GZIP_MAGIC", "TileSet", "open_tileset"]

GZIP_MAGIC = b"\x1f\x8b"
_READ_TILE = "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?"
_READ_METADATA = "SELECT name, value FROM metadata"
_READ_ZOOM_RANGE = "SELECT min(zoom_level), max(zoom_level) FROM tiles"


@dataclass(frozen=True)
class TileSet:
    path: Path
    min_zoom: int
    max_zoom: int
    # [west, south, east, north], or None when the file does not say.
    bounds: tuple[float, float, float, float] | None
    # Names this version of the file: part of every tile's ETag.
    version: str
    _connection: sqlite3.Connection
    _lock: threading.Lock

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The stored bytes of one tile (usually gzip-compressed), None if absent."""
        with self._lock:
            row = self._connection.execute(_READ_TILE, (z, x, (1 << z) - 1 - y)).fetchone()
        return None if row is None else bytes(row[0])

    def within_pyramid(self, z: int, x: int, y: int) -> bool:
        return self.min_zoom <= z <= self.max_zoom and 0 <= x < (1 << z) and 0 <= y < (1 << z)

    def close(self) -> None:
        with self._lock:
            self._connection.close()


def open_tileset(path: Path) -> TileSet:
    path = path.resolve()
    uri = f"{path.as_uri()}?mode=ro&immutable=1"
    # One connection shared by the server's threads, one query at a time (a tile read is
    # well under a millisecond).
    connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
    metadata = dict(connection.execute(_READ_METADATA).fetchall())
    zooms = connection.execute(_READ_ZOOM_RANGE).fetchone()
    stat = path.stat()
    version = hashlib.sha256(f"{path}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()
    return TileSet(
        path=path,
        min_zoom=int(metadata.get("minzoom", zooms[0] or 0)),
        max_zoom=int(metadata.get("maxzoom", zooms[1] or 0)),
        bounds=_bounds(metadata.get("bounds")),
        version=version[:16],
        _connection=connection,
        _lock=threading.Lock(),
    )


def _bounds(text: str | None) -> tuple[float, float, float, float] | None:
    if not text:
        return None
    try:
        west, south, east, north = (float(part) for part in text.split(","))
    except ValueError:
        return None
    return (west, south, east, north)
