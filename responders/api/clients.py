"""Who is the client? The peer, unless the peer is a configured proxy.

The abuse limits key on the client's address. `X-Forwarded-For` is written by whoever
sends the request, so it counts only when the peer is a proxy we trust
(EHBO_API_TRUSTED_PROXIES); `ehbo serve` runs uvicorn without its own proxy-header
handling, which by default believed any loopback peer."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from pydantic import IPvAnyNetwork
from starlette.requests import Request

__all__ = ["ClientAddresses"]

_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class ClientAddresses:
    def __init__(self, trusted: Sequence[IPvAnyNetwork]) -> None:
        self._trusted = tuple(trusted)

    def address(self, request: Request) -> str:
        peer = request.client.host if request.client else "unknown"
        if not self._trusted or not self._is_trusted(peer):
            return peer
        hops = [h.strip() for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",")]
        return self._first_untrusted([h for h in hops if h], peer)

    def _first_untrusted(self, hops: list[str], peer: str) -> str:
        """From the nearest hop outwards: each trusted proxy vouches for the hop before it;
        the first hop that is not a trusted proxy is the client. A malformed hop ends the
        chain: the last proxy that vouched for something is the best we know."""
        known = peer
        for hop in reversed(hops):
            if _parse(hop) is None:
                return known
            if not self._is_trusted(hop):
                return hop
            known = hop
        return known

    def _is_trusted(self, host: str) -> bool:
        address = _parse(host)
        return address is not None and any(address in net for net in self._trusted)


def _parse(host: str) -> _Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None
