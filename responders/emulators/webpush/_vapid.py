"""VAPID (RFC 8292) as a push service checks it: who signed, for which service, until when.

`Authorization: vapid t=<JWT>, k=<base64url P-256 point>` is RFC 8292's form. The older
draft form some senders still use, `Authorization: WebPush <JWT>` with the key in
`Crypto-Key: p256ecdsa=<k>`, is accepted too. The JWT must be ES256, verify with `k`, name
this service's origin in `aud`, expire in the future but at most 24 hours ahead, and carry
a `sub` (a `mailto:` or `https:` contact). No header is a 401; a header that does not pass
is a 403 (RFC 8292 §4.2), each with the reason.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from responders.push.vapid import b64url_decode, origin_of

__all__ = ["MAX_EXPIRY_S", "VapidError", "VapidSender", "verify_vapid"]

MAX_EXPIRY_S = 24 * 60 * 60  # RFC 8292 §2: exp MUST NOT be more than 24 hours ahead
_PARAM = re.compile(r"\s*([A-Za-z0-9_-]+)\s*=\s*([^,;\s]+)\s*")


class VapidError(Exception):
    """The push is refused: `status` 401 or 403, `reason` says why."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class VapidSender:
    """Who the push came from: the application server's key and its JWT claims."""

    public_key: str  # base64url, as sent in k
    subject: str
    expires_at: int
    claims: dict[str, Any]


def verify_vapid(
    authorization: str | None,
    crypto_key: str | None,
    audience: str,
    *,
    now: float | None = None,
) -> VapidSender:
    """The sender if the headers prove it for `audience` (an origin); VapidError otherwise."""
    token, key_text = _token_and_key(authorization, crypto_key)
    key = _public_key(key_text)
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise VapidError(403, f"the VAPID token is not a JWT: {exc}") from exc
    if header.get("alg") != "ES256":
        raise VapidError(403, f"the VAPID token must be signed ES256, not {header.get('alg')}")
    try:
        # The claims are checked below, one by one, so the reason names the one that failed.
        claims = jwt.decode(
            token,
            key,
            algorithms=["ES256"],
            options={
                "verify_exp": False,
                "verify_aud": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.InvalidSignatureError as exc:
        raise VapidError(403, "the VAPID token's signature does not verify with k") from exc
    except jwt.InvalidTokenError as exc:
        raise VapidError(403, f"the VAPID token is not valid: {exc}") from exc
    _check_audience(claims, audience)
    return VapidSender(
        public_key=key_text,
        subject=_subject(claims),
        expires_at=_expiry(claims, time.time() if now is None else now),
        claims=claims,
    )


def _token_and_key(authorization: str | None, crypto_key: str | None) -> tuple[str, str]:
    if not authorization or not authorization.strip():
        raise VapidError(401, "an Authorization header with a VAPID token is required")
    scheme, _, rest = authorization.strip().partition(" ")
    scheme = scheme.lower()
    if scheme == "vapid":
        params = _params(rest, ",")
        token, key = params.get("t"), params.get("k")
        if not token or not key:
            raise VapidError(401, "Authorization: vapid needs both t=<JWT> and k=<public key>")
        return token, key
    if scheme == "webpush":
        key = _params(crypto_key or "", ";,").get("p256ecdsa")
        if not rest.strip() or not key:
            raise VapidError(
                401, "Authorization: WebPush needs a JWT and Crypto-Key: p256ecdsa=<public key>"
            )
        return rest.strip(), key
    raise VapidError(401, f"Authorization scheme {scheme!r} is not vapid")


def _params(text: str, separators: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in re.split(f"[{re.escape(separators)}]", text):
        match = _PARAM.fullmatch(part)
        if match:
            found.setdefault(match.group(1).lower(), match.group(2).strip('"'))
    return found


def _public_key(text: str) -> ec.EllipticCurvePublicKey:
    try:
        raw = b64url_decode(text)
        if len(raw) != 65 or raw[0] != 4:
            raise ValueError("not an uncompressed point")
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError as exc:
        raise VapidError(
            403, "k must be base64url of an uncompressed P-256 point (65 bytes)"
        ) from exc


def _check_audience(claims: dict[str, Any], audience: str) -> None:
    aud = claims.get("aud")
    if not isinstance(aud, str) or not aud:
        raise VapidError(403, "the VAPID token has no aud claim")
    # An origin: no path, and "https://host:443" is the same origin as "https://host".
    if urlsplit(aud).path not in ("", "/") or origin_of(aud) != audience:
        raise VapidError(403, f"the VAPID token's aud {aud!r} is not this service ({audience})")


def _expiry(claims: dict[str, Any], now: float) -> int:
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        raise VapidError(403, "the VAPID token has no numeric exp claim")
    if exp <= now:
        raise VapidError(403, "the VAPID token has expired")
    if exp > now + MAX_EXPIRY_S:
        raise VapidError(403, "the VAPID token's exp is more than 24 hours ahead")
    return int(exp)


def _subject(claims: dict[str, Any]) -> str:
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.startswith(("mailto:", "https:")):
        raise VapidError(403, "the VAPID token's sub must be a mailto: or https: contact")
    return sub
