"""A subscriber's keys (RFC 8291), as a browser makes them for `pushManager.subscribe()`.

Tests and the demo make them to hand a sender what `PushSubscription.toJSON()` would give,
and to read what arrived: `decrypt` is the user agent's half of `aes128gcm` (http_ece),
never hand-written crypto.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import http_ece
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

# The sender's own helpers: one base64url, key size and key reader for both ends of a push.
from responders.push.endpoints import AUTH_BYTES
from responders.push.vapid import b64url, b64url_decode, parse_private_key

__all__ = ["SubscriberKeys"]


def _pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def _public_point(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


@dataclass(frozen=True)
class SubscriberKeys:
    """One subscription's P-256 key pair and auth secret; `p256dh` and `auth` are base64url."""

    private_key_pem: str
    auth: str
    _key: ec.EllipticCurvePrivateKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(b64url_decode(self.auth)) != AUTH_BYTES:
            raise ValueError("auth must be 16 bytes, base64url")
        object.__setattr__(self, "_key", parse_private_key(self.private_key_pem))

    @classmethod
    def generate(cls) -> SubscriberKeys:
        key = ec.generate_private_key(ec.SECP256R1())
        return cls(_pem(key), b64url(secrets.token_bytes(AUTH_BYTES)))

    @classmethod
    def from_private_key(cls, private_key: str, auth: str) -> SubscriberKeys:
        """From a private key in any form `parse_private_key` reads (PEM or raw base64url)."""
        return cls(_pem(parse_private_key(private_key)), auth)

    @property
    def p256dh(self) -> str:
        """The public key, base64url of the 65-byte uncompressed point."""
        return b64url(_public_point(self._key))

    def subscription(self, endpoint: str) -> dict[str, Any]:
        """What `PushSubscription.toJSON()` gives for this endpoint."""
        return {
            "endpoint": endpoint,
            "expirationTime": None,
            "keys": {"p256dh": self.p256dh, "auth": self.auth},
        }

    def decrypt(self, body: bytes) -> bytes:
        """The plaintext of an `aes128gcm` push body; http_ece raises if it does not decrypt."""
        plain: bytes = http_ece.decrypt(
            body,
            private_key=self._key,
            auth_secret=b64url_decode(self.auth),
            version="aes128gcm",
        )
        return plain
