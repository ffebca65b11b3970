"""Which Web Push subscriptions we accept, and which addresses we may send to.

A subscription's endpoint is a URL the browser's push service gave it, but the server is
told it by a client: left unchecked, "send a push" would be a way to make our server POST to
any address, inside our network too. So an endpoint must be `https` on a public host, and
its keys the sizes RFC 8291 fixes. With `allow_loopback` (the demo and the tests, whose
local push service listens on 127.0.0.1) a loopback endpoint is accepted too, over http or
https; other private ranges never are.

A name is public when registered, but DNS may point it elsewhere later: before each send
the host is resolved again and a private address refuses the send (`refusal_before_send`).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import socket
from urllib.parse import SplitResult, urlsplit

from cryptography.hazmat.primitives.asymmetric import ec

from responders.errors import InvalidInput

__all__ = [
    "AUTH_BYTES",
    "P256DH_BYTES",
    "check_subscription",
    "endpoint_problem",
    "key_problem",
    "refusal_before_send",
]

P256DH_BYTES = 65  # an uncompressed P-256 point: 0x04, x, y
AUTH_BYTES = 16
_B64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")
# Names that never leave the machine or the site (RFC 6761, 6762, 8375, common practice).
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa", ".localdomain")
_FIELD_ENDPOINT = "body.subscription.endpoint"
_FIELD_KEYS = "body.subscription.keys"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def check_subscription(endpoint: str, p256dh: str, auth: str, *, allow_loopback: bool) -> None:
    """Raises InvalidInput naming the first bad field of a subscription."""
    problem = endpoint_problem(endpoint, allow_loopback=allow_loopback)
    if problem is not None:
        raise InvalidInput(problem, field=_FIELD_ENDPOINT)
    for name, value, size in (("p256dh", p256dh, P256DH_BYTES), ("auth", auth, AUTH_BYTES)):
        problem = key_problem(name, value, size)
        if problem is not None:
            raise InvalidInput(problem, field=f"{_FIELD_KEYS}.{name}")


def endpoint_problem(endpoint: str, *, allow_loopback: bool) -> str | None:
    """A sentence saying why we must not send to this endpoint, or None when it is fine."""
    try:
        parts = urlsplit(endpoint)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return "This is not a valid URL."
    if not host or parts.scheme not in ("https", "http"):
        return "The endpoint must be an https:// URL."
    if parts.username is not None or parts.password is not None:
        return "The endpoint must not contain a user name or password."
    loopback = _is_loopback_host(host)
    if loopback and allow_loopback:
        return None
    if parts.scheme != "https":
        return "The endpoint must be an https:// URL."
    if loopback or not _public_host(host):
        return "The endpoint must be on a public host, not a private or local address."
    return None


def key_problem(name: str, value: str, size: int) -> str | None:
    raw = _b64url_decode(value)
    if raw is None or len(raw) != size:
        return f"The {name} key must be {size} bytes in base64url."
    if name == "p256dh":
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
        except ValueError:
            return "The p256dh key is not a point on the P-256 curve."
    return None


def refusal_before_send(endpoint: str, *, allow_loopback: bool) -> str | None:
    """Resolve the endpoint's host now: why we must not send there, or None. Blocking (DNS);
    the Web Push channel calls it on its sending threads."""
    problem = endpoint_problem(endpoint, allow_loopback=allow_loopback)
    if problem is not None:
        return problem
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    try:
        found = socket.getaddrinfo(
            host, parts.port or _default_port(parts), type=socket.SOCK_STREAM
        )
    except (OSError, UnicodeError) as exc:  # UnicodeError: a name IDNA cannot encode
        return f"cannot resolve {host}: {exc}"
    for info in found:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not (address.is_global or (allow_loopback and address.is_loopback)):
            return f"{host} resolves to the private address {address}: not sent"
    return None


def _default_port(parts: SplitResult) -> int:
    return 443 if parts.scheme == "https" else 80


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


def _is_loopback_host(host: str) -> bool:
    address = _literal(host)
    if address is not None:
        return address.is_loopback
    name = host.lower().rstrip(".")
    return name == "localhost" or name.endswith(".localhost")


def _public_host(host: str) -> bool:
    address = _literal(host)
    if address is not None:
        # Excludes private, loopback, link-local, shared (100.64/10), reserved, multicast…
        return address.is_global and not address.is_multicast
    name = host.lower().rstrip(".")
    # A single label ("intranet") is resolved by the local search domain: a private name.
    return "." in name and not name.endswith(_LOCAL_SUFFIXES)


def _b64url_decode(value: str) -> bytes | None:
    if not _B64URL.match(value):
        return None
    try:
        return base64.urlsafe_b64decode(value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        return None
