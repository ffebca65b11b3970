"""Draws the volunteer app's icons (issue 15): a white heart with a red cross on the app's
navy, as PNGs at the sizes the web app manifest and iOS ask for, plus the same as SVG.

Run once after changing the design and commit the files it writes:
    python scripts/make_icons.py
It needs only the standard library (no Pillow): each pixel is the average of 4 by 4 samples
of the shapes, and the PNG is written with zlib.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

__all__ = ["main"]

OUT = Path(__file__).resolve().parent.parent / "responders" / "web" / "static" / "icons"
NAVY = (19, 34, 53)
WHITE = (255, 255, 255)
RED = (211, 38, 30)
SAMPLES = 4

# (file name, size in pixels, maskable): a maskable icon keeps its drawing inside the
# middle 80 % (the "safe zone") and fills the whole square, as launchers crop it.
ICONS = [
    ("icon-192.png", 192, False),
    ("icon-512.png", 512, False),
    ("icon-maskable-512.png", 512, True),
    ("apple-touch-icon.png", 180, True),
]

Shape = Callable[[float, float], bool]


def _heart(x: float, y: float) -> bool:
    """The heart in a unit square (0..1, y down): two discs over a triangle."""
    left = (x - 0.3) ** 2 + (y - 0.35) ** 2 <= 0.2**2
    right = (x - 0.7) ** 2 + (y - 0.35) ** 2 <= 0.2**2
    # Under the discs: a band as wide as they are at y = 0.45, narrowing from there to the
    # point at (0.5, 0.92) along lines that meet the discs' sides.
    below = 0.35 <= y <= 0.92 and abs(x - 0.5) <= min(0.373, 0.373 * (0.92 - y) / 0.47)
    return left or right or below


def _cross(x: float, y: float) -> bool:
    """The cross in the middle of the heart."""
    cx, cy, arm, half = 0.5, 0.47, 0.17, 0.055
    return (abs(x - cx) <= half and abs(y - cy) <= arm) or (
        abs(y - cy) <= half and abs(x - cx) <= arm
    )


def _rounded(x: float, y: float, radius: float = 0.18) -> bool:
    """A square with rounded corners (the plain icon's background)."""
    dx = max(radius - x, 0.0, x - (1 - radius))
    dy = max(radius - y, 0.0, y - (1 - radius))
    return dx * dx + dy * dy <= radius * radius


def _colour(u: float, v: float, maskable: bool) -> tuple[tuple[int, int, int], float]:
    """The colour at (u, v) in the unit square and whether anything is drawn there."""
    if not maskable and not _rounded(u, v):
        return NAVY, 0.0
    # The heart in the middle 62 % (maskable: well inside the 80 % safe zone).
    scale, offset = 0.62, 0.19
    x, y = (u - offset) / scale, (v - offset) / scale
    if 0 <= x <= 1 and 0 <= y <= 1 and _heart(x, y):
        return (RED if _cross(x, y) else WHITE), 1.0
    return NAVY, 1.0


def draw(size: int, maskable: bool) -> bytes:
    """RGBA rows of the icon, each prefixed with PNG filter byte 0."""
    rows = bytearray()
    step = 1 / (size * SAMPLES)
    for py in range(size):
        rows.append(0)
        for px in range(size):
            total = [0.0, 0.0, 0.0, 0.0]
            for sy in range(SAMPLES):
                for sx in range(SAMPLES):
                    u = px / size + (sx + 0.5) * step
                    v = py / size + (sy + 0.5) * step
                    colour, alpha = _colour(u, v, maskable)
                    for i in range(3):
                        total[i] += colour[i] * alpha
                    total[3] += alpha
            n = SAMPLES * SAMPLES
            alpha = total[3] / n
            # Colour without premultiplication: the average of the drawn samples.
            rgb = [round(total[i] / total[3]) if total[3] else 0 for i in range(3)]
            rows.extend([*rgb, round(alpha * 255)])
    return bytes(rows)


def png(size: int, rgba_rows: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rgba_rows, 9))
        + chunk(b"IEND", b"")
    )


SVG = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">
<rect width="100" height="100" rx="18" fill="#132235"/>
<g transform="translate(19 19) scale(0.62)">
<circle cx="30" cy="35" r="20" fill="#fff"/>
<circle cx="70" cy="35" r="20" fill="#fff"/>
<path d="M12.7 35 H87.3 V45 L50 92 L12.7 45 Z" fill="#fff"/>
<path d="M44.5 30 h11 v11.5 h11.5 v11 h-11.5 v11.5 h-11 v-11.5 h-11.5 v-11 h11.5 Z" fill="#d3261e"/>
</g>
</svg>
"""


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, size, maskable in ICONS:
        (OUT / name).write_bytes(png(size, draw(size, maskable)))
    (OUT / "icon.svg").write_text(SVG, encoding="utf-8")


if __name__ == "__main__":
    main()
