"""The service's VAPID key (RFC 8292): loaded or generated once, and the signed headers.

A push service ties each subscription to the public key the browser subscribed with
(`applicationServerKey`), so the key must never change under a running deployment: given by
`EHBO_WEBPUSH_VAPID_PRIVATE_KEY` it wins; otherwise it is read from `vapid_key_file`, which
is generated once (mode 0600) when absent. Two processes starting at once cannot both write
it: the loser of the race reads the winner's key.
"""

from __future__ import annotations

import base64
import os
import secrets
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

from responders.settings import WebPushSettings

__all__ = [
    "VapidKey",
    "b64url",
    "b64url_decode",
    "load_vapid_key",
    "origin_of",
    "parse_private_key",
]

# A JWT is valid for at most 24 h (push services refuse more); ours live 12 h and are
# signed again after 6, so one never expires while in flight.
_JWT_LIFETIME_S = 12 * 3600
_JWT_RENEW_S = 6 * 3600
_DEFAULT_PORTS = {"http": 80, "https": 443}


def b64url(raw: bytes) -> str:
    """base64url without padding, as the Push API and VAPID write keys."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Base64url with or without padding; ValueError if it is not base64url."""
    if not isinstance(text, str) or not text.isascii():
        raise ValueError("not base64url")
    padded = text + "=" * (-len(text) % 4)
    try:
        return base64.b64decode(padded, altchars=b"-_", validate=True)
    except ValueError as exc:  # binascii.Error is a ValueError
        raise ValueError("not base64url") from exc


def origin_of(url: str) -> str:
    """The URL's origin (RFC 6454): scheme://host[:port], lower case, the default port
    dropped. What a VAPID `aud` names, and what a push service compares it with."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:  # an IPv6 literal keeps its brackets in an origin
        host = f"[{host}]"
    port = parts.port
    if port is None or port == _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


class VapidKey:
    """The private key, its public key for browsers, and cached Authorization headers."""

    def __init__(self, private_key: ec.EllipticCurvePrivateKey, subject: str) -> None:
        self._vapid = Vapid02(private_key)
        self._subject = subject
        point = private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.public_key = b64url(point)  # 65 bytes: the `applicationServerKey`
        self._lock = threading.Lock()
        self._signed: dict[str, tuple[float, str]] = {}  # origin -> (signed at, header)

    def authorization(self, endpoint: str, *, now: float | None = None) -> str:
        """`vapid t=<JWT>,k=<public key>` for the endpoint's push service. ES256 signing is
        cheap but not free: one header per origin serves every push for hours."""
        at = time.time() if now is None else now
        aud = origin_of(endpoint)
        with self._lock:
            cached = self._signed.get(aud)
            if cached is not None and at - cached[0] < _JWT_RENEW_S:
                return cached[1]
            claims = {"aud": aud, "sub": self._subject, "exp": int(at) + _JWT_LIFETIME_S}
            header = str(self._vapid.sign(claims)["Authorization"])
            self._signed[aud] = (at, header)
            return header


def load_vapid_key(settings: WebPushSettings) -> VapidKey:
    """The key given by the setting, else the key file's, generating the file if absent."""
    if settings.vapid_private_key is not None:
        private = parse_private_key(settings.vapid_private_key.get_secret_value())
    else:
        private = _from_file(settings.vapid_key_file)
    return VapidKey(private, settings.subject)


def parse_private_key(text: str) -> ec.EllipticCurvePrivateKey:
    """A P-256 private key from PEM (PKCS#8 or SEC 1) or the raw 32-byte private number in
    base64url (a JWK's `d`); ValueError otherwise."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode("ascii"), password=None)
    else:
        raw = b64url_decode(text)
        if len(raw) != 32:
            raise ValueError("a raw P-256 private key is 32 bytes in base64url")
        key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("the key must be a P-256 (prime256v1) EC private key")
    return key


def _from_file(path: Path) -> ec.EllipticCurvePrivateKey:
    if not path.exists():
        _generate(path)
    return parse_private_key(path.read_text("ascii"))


def _generate(path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written whole under a temporary name, then linked into place: a process starting at
    # the same moment sees no file or the whole key, and link() fails if one won already.
    # A name of its own per call (not per process: two threads of one process would share
    # it, and the second would rewrite the file the first had already linked into place).
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
        os.link(temporary, path)
    except FileExistsError:  # another process made it first: theirs is the key
        pass
    finally:
        temporary.unlink(missing_ok=True)
