"""Bearer tokens: random, shown once, stored only as a SHA-256 digest.

The tokens carry 256 bits of randomness, so a fast digest is enough (no password-style
stretching); lookups go by digest, and the final comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = ["digest_matches", "hash_token", "new_token"]


def new_token(kind: str) -> str:
    """A fresh token; the prefix (`op`, `rs`) lets a leaked one be recognised in a scan."""
    return f"ehbo_{kind}_{secrets.token_urlsafe(32)}"


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def digest_matches(stored: bytes, token: str) -> bool:
    return hmac.compare_digest(stored, hash_token(token))
