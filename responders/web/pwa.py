"""The volunteer app as an installable app (issue 15): its web app manifest and its service
worker, both served under /app so that the worker's scope is the app.

The worker precaches the app shell (the page, the JavaScript modules it imports, the
stylesheets, Leaflet and the icons). Its cache is named after a digest of exactly those files,
computed here when the worker is served, so a deploy that changes any of them changes the
worker's text: the browser installs the new worker, which fetches the new shell and drops
the old cache.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import cache
from pathlib import Path

from fastapi import APIRouter
from starlette.responses import Response

__all__ = ["router", "shell", "shell_version"]

_HERE = Path(__file__).resolve().parent
_STATIC = _HERE / "static"
_TEMPLATES = _HERE / "templates"
_ENTRY = "js/app.js"
# `import … from "./x.js"`, `import "./x.js"` and `import("./x.js")` of a sibling module.
_IMPORT = re.compile(r"""(?:\bfrom|\bimport)\s*\(?\s*["']\./([\w.-]+\.js)["']""")
# Loaded by app.html itself, not by a module.
_PAGE_FILES = (
    "css/style.css",
    "vendor/leaflet-1.9.4/leaflet.css",
    "vendor/leaflet-1.9.4/leaflet.js",
)

router = APIRouter(include_in_schema=False)


def _modules(entry: str) -> list[str]:
    """The page's ES modules: the entry and every module it imports, transitively, so a new
    module is precached without anyone listing it."""
    seen: list[str] = []
    todo = [entry]
    while todo:
        name = todo.pop()
        # A name in a comment that only looks like an import is no module of the page.
        if name in seen or not (_STATIC / name).is_file():
            continue
        seen.append(name)
        source = (_STATIC / name).read_text(encoding="utf-8")
        todo.extend(f"js/{found}" for found in _IMPORT.findall(source))
    return seen


def _static_files() -> list[str]:
    leaflet_images = sorted(
        p.relative_to(_STATIC).as_posix()
        for p in (_STATIC / "vendor" / "leaflet-1.9.4" / "images").glob("*.png")
    )
    icons = sorted(p.relative_to(_STATIC).as_posix() for p in (_STATIC / "icons").iterdir())
    return [*_PAGE_FILES, *_modules(_ENTRY), *leaflet_images, *icons]


@cache
def _shell() -> tuple[tuple[str, ...], str]:
    """The shell's URLs and the digest of their contents (and of the worker itself)."""
    files: dict[str, Path] = {
        "/app": _TEMPLATES / "app.html",
        "/app/manifest.webmanifest": _TEMPLATES / "app.webmanifest",
    }
    files.update({f"/static/{name}": _STATIC / name for name in _static_files()})
    digest = hashlib.sha256((_TEMPLATES / "sw.js").read_bytes())
    for url, path in files.items():
        digest.update(url.encode() + b"\0" + path.read_bytes() + b"\0")
    return tuple(files), digest.hexdigest()[:16]


def shell() -> tuple[str, ...]:
    """The URLs the service worker precaches."""
    return _shell()[0]


def shell_version() -> str:
    """The name of this deploy's shell (changes whenever a shell file does)."""
    return _shell()[1]


@cache
def _worker_source() -> str:
    source = (_TEMPLATES / "sw.js").read_text(encoding="utf-8")
    return source.replace('"__EHBO_VERSION__"', json.dumps(shell_version())).replace(
        '["__EHBO_SHELL__"]', json.dumps(list(shell()))
    )


@router.get("/app/sw.js")
async def service_worker() -> Response:
    """The service worker, with this deploy's shell list and version written in."""
    return Response(
        _worker_source(),
        media_type="text/javascript",
        headers={
            # The worker sits in /app/ but serves the page /app itself.
            "Service-Worker-Allowed": "/app",
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/app/manifest.webmanifest")
async def manifest() -> Response:
    """The web app manifest: name, icons, colours; /app opens standalone."""
    return Response(
        (_TEMPLATES / "app.webmanifest").read_bytes(),
        media_type="application/manifest+json",
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )
