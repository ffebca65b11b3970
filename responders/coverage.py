"""Is a location on land volunteers can walk to? One rule, on the walking graph, for every
location the service takes: places, AEDs, citizen reports and operators' incidents.

"Walkable" is what the router snaps within its snap limit (EHBO_ROUTING_SNAP_LIMIT_M). A
place, an AED or a citizen's report farther out (the harbour, the sea) is refused; an
operator may confirm an incident there (boats, ice and islands exist), and it is then
dispatched from the nearest walkable point."""

from __future__ import annotations

from collections.abc import Iterable

from responders.errors import OffNetworkUnconfirmed, OutsideCoverage
from responders.schemas.common import LatLon
from routing import Point, Router

__all__ = ["require_dispatchable", "require_walkable", "require_walkable_all", "walk_target"]


def require_walkable(router: Router, location: LatLon, field: str, what: str) -> None:
    """Refuse `location` (named `field`, a `what` in the message) off the walking network."""
    if not router.covers(Point(location.lat, location.lon)):
        raise OutsideCoverage(
            f"{what} is not near any street or path one can walk on (in the water?); "
            "check its position on the map",
            field=field,
        )


def require_walkable_all(router: Router, located: Iterable[tuple[str, LatLon]], what: str) -> None:
    """`require_walkable` for several (field, location) pairs; the first bad one is named."""
    for field, location in located:
        require_walkable(router, location, field, what)


def require_dispatchable(router: Router, location: LatLon, confirmed: bool, reach_m: float) -> None:
    """An operator's incident: on the network; or off it, confirmed, and within `reach_m`
    of it (farther than a wave ever searches, nobody could be alerted: nothing to confirm)."""
    point = Point(location.lat, location.lon)
    if router.covers(point):
        return
    _, off_m = router.landing(point)
    if off_m > reach_m:
        raise OutsideCoverage(
            "this location is outside the area the walking graph covers",
            field="body.location",
        )
    if not confirmed:
        raise OffNetworkUnconfirmed(
            f"this location is {off_m:,.0f} m from the nearest walkable street (water, ice, "
            "an island?); to dispatch volunteers to that street anyway, send the incident "
            "again with confirm_off_network: true",
            field="body.location",
            off_network_m=round(off_m),
        )


def walk_target(router: Router, lat: float, lon: float) -> Point:
    """Where volunteers walk to for an incident here: the point itself, or for a confirmed
    incident off the network, the nearest walkable point."""
    point = Point(lat, lon)
    return point if router.covers(point) else router.landing(point)[0]
