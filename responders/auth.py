"""Who is calling: bearer tokens to principals. Lookups go by digest (see `security`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, LiteralString

from psycopg_pool import AsyncConnectionPool

from responders.db.engine import fetch_all
from responders.errors import Forbidden, Unauthorized
from responders.security import digest_matches, hash_token

__all__ = ["OperatorPrincipal", "authenticate_operator", "authenticate_responder", "require_role"]


@dataclass(frozen=True, slots=True)
class OperatorPrincipal:
    id: int
    name: str
    role: str


# On the autocommit pool: one round trip, no transaction, no ORM (every request does it).
_RESPONDER = """
    SELECT token_hash, responder_id FROM responder_tokens
    WHERE token_hash = %(digest)s AND revoked_at IS NULL
"""
_OPERATOR = """
    SELECT token_hash, id, name, role FROM operators
    WHERE token_hash = %(digest)s AND revoked_at IS NULL
"""


async def authenticate_responder(pool: AsyncConnectionPool, token: str) -> int:
    row = await _lookup(pool, _RESPONDER, token)
    if row is None:
        raise Unauthorized("invalid or revoked volunteer token")
    return int(row[1])


async def authenticate_operator(pool: AsyncConnectionPool, token: str) -> OperatorPrincipal:
    row = await _lookup(pool, _OPERATOR, token)
    if row is None:
        raise Unauthorized("invalid or revoked operator token")
    return OperatorPrincipal(id=row[1], name=row[2], role=row[3])


async def _lookup(
    pool: AsyncConnectionPool, sql: LiteralString, token: str
) -> tuple[Any, ...] | None:
    """The row whose digest (always the first column) matches `token`, if any."""
    rows = await fetch_all(pool, sql, {"digest": hash_token(token)})
    return next((r for r in rows if digest_matches(bytes(r[0]), token)), None)


def require_role(principal: OperatorPrincipal, role: str) -> OperatorPrincipal:
    if principal.role != role:
        raise Forbidden(f"this needs the {role} role")
    return principal
