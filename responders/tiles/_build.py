"""Vector tiles of an extract: cleaned (`_clean.py`), then cut by tilemaker into MBTiles.

The result is cached by the extract's content (sha256, memoised like the walking graph's)
and by the tile profile (config.json, process.lua, `FORMAT_VERSION`), so a second start
reuses it and an edited extract or profile builds anew.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import subprocess
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from responders.errors import TileBuildError
from routing._cache import file_digest

from ._clean import clean_extract

__all__ = ["FORMAT_VERSION", "PROFILE_DIR", "build_tiles", "default_tiles_dir", "tiles_path"]

log = logging.getLogger(__name__)

# Bump when the cleaning or the build changes what the tiles hold: old files then miss.
FORMAT_VERSION = 1
PROFILE_DIR = Path(__file__).resolve().parent
_PROFILE = ("config.json", "process.lua")
TILEMAKER = "tilemaker"
# tilemaker rewrites one status line with "\r": "Zoom level 14, writing tile 812 of 4096".
_WRITING = re.compile(r"writing tile (\d+) of (\d+)")

Progress = Callable[[int], None]


def default_tiles_dir() -> Path:
    return Path.home() / ".cache" / "ehbo" / "tiles"


def tiles_path(extract: Path, cache_dir: Path) -> Path:
    """Where the tiles of `extract` are (or would be) cached."""
    key = hashlib.sha256(f"{FORMAT_VERSION}\n{file_digest(extract, cache_dir)}".encode())
    for name in _PROFILE:
        key.update((PROFILE_DIR / name).read_bytes())
    stem = extract.name.split(".")[0] or "tiles"
    return cache_dir / f"{stem}-{key.hexdigest()[:20]}.mbtiles"


def build_tiles(
    extract: Path, cache_dir: Path | None = None, *, progress: Progress | None = None
) -> Path | None:
    """The MBTiles of `extract`, built unless cached; None when it must be built and
    tilemaker is not installed (the pages then draw the walking graph's streets). Raises
    `TileBuildError` when the build fails."""
    cache_dir = Path(cache_dir or default_tiles_dir())
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = tiles_path(extract, cache_dir)
    if target.exists():
        log.info("tiles: using %s", target)
        return target
    executable = shutil.which(TILEMAKER)
    if executable is None:
        log.warning(
            "tiles: %r is not installed (apt-get install tilemaker): the maps draw streets only",
            TILEMAKER,
        )
        return None
    log.info("tiles: building vector tiles of %s (once per extract)", extract)
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".build-") as work:
        cleaned = Path(work) / "clean.osm.pbf"
        clean_extract(extract, cleaned)
        built = Path(work) / "tiles.mbtiles"
        _run_tilemaker(executable, cleaned, built, progress or _log_progress())
        # Atomic: a concurrent start never sees half a file.
        os.replace(built, target)
    log.info("tiles: built %s (%d kB)", target, target.stat().st_size // 1024)
    return target


def _run_tilemaker(executable: str, source: Path, target: Path, progress: Progress) -> None:
    command = [
        executable,
        "--input", str(source),
        "--output", str(target),
        "--config", str(PROFILE_DIR / "config.json"),
        "--process", str(PROFILE_DIR / "process.lua"),
    ]  # fmt: skip
    tail: deque[str] = deque(maxlen=20)
    with subprocess.Popen(  # noqa: S603 (our own arguments, no shell)
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        cwd=target.parent,
    ) as process:
        assert process.stdout is not None
        for line in _lines(process.stdout):
            tail.append(line)
            if match := _WRITING.search(line):
                done, total = int(match[1]), int(match[2])
                progress(done * 100 // max(total, 1))
        code = process.wait()
    if code != 0 or not target.exists():
        raise TileBuildError(f"tilemaker failed (exit {code}): " + " | ".join(tail), tool=TILEMAKER)


def _lines(stream: IO[bytes]) -> Iterator[str]:
    """tilemaker's output split at "\\n" and at the "\\r" of its progress line."""
    pending = b""
    while chunk := stream.read1(4096):  # type: ignore[attr-defined]
        pending += chunk
        *complete, pending = re.split(rb"[\r\n]", pending)
        for raw in complete:
            if text := raw.decode(errors="replace").strip():
                yield text
    if text := pending.decode(errors="replace").strip():
        yield text


def _log_progress() -> Progress:
    """A percentage in the log, at every tenth of the tiles written."""
    shown = -1

    def report(percent: int) -> None:
        nonlocal shown
        step = percent // 10 * 10
        if step > shown:
            shown = step
            log.info("tiles: writing tiles %3d%%", step)

    return report
