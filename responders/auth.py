"""Who is calling: bearer tokens to principals. Lookups go by digest (see `security`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from responders.db.tables import Operator, ResponderToken
from responders.errors import Forbidden, Unauthorized
from responders.security import digest_matches, hash_token

__all__ = ["OperatorPrincipal", "authenticate_operator", "authenticate_responder", "require_role"]


@dataclass(frozen=True, slots=True)
class OperatorPrincipal:
    id: int
    name: str
    role: str


async def authenticate_responder(session: AsyncSession, token: str) -> int:
    row = (
        await session.execute(
            select(ResponderToken.responder_id, ResponderToken.token_hash).where(
                ResponderToken.token_hash == hash_token(token),
                ResponderToken.revoked_at.is_(None),
            )
        )
    ).first()
    if row is None or not digest_matches(row.token_hash, token):
        raise Unauthorized("invalid or revoked volunteer token")
    return int(row.responder_id)


async def authenticate_operator(session: AsyncSession, token: str) -> OperatorPrincipal:
    operator = (
        await session.scalars(
            select(Operator).where(
                Operator.token_hash == hash_token(token), Operator.revoked_at.is_(None)
            )
        )
    ).first()
    if operator is None or not digest_matches(operator.token_hash, token):
        raise Unauthorized("invalid or revoked operator token")
    return OperatorPrincipal(id=operator.id, name=operator.name, role=operator.role)


def require_role(principal: OperatorPrincipal, role: str) -> OperatorPrincipal:
    if principal.role != role:
        raise Forbidden(f"this needs the {role} role")
    return principal
