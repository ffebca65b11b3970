"""Operators and coordinators: created and revoked from the command line."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from responders.db.tables import Operator
from responders.errors import NotFound
from responders.security import hash_token, new_token

__all__ = ["NewOperator", "create_operator", "list_operators", "revoke_operator"]


@dataclass(frozen=True)
class NewOperator:
    id: int
    name: str
    role: str
    token: str


async def create_operator(session: AsyncSession, name: str, role: str) -> NewOperator:
    token = new_token("op")
    operator = Operator(name=name, role=role, token_hash=hash_token(token))
    session.add(operator)
    await session.commit()
    return NewOperator(id=operator.id, name=name, role=role, token=token)


async def revoke_operator(session: AsyncSession, operator_id: int) -> None:
    result = await session.execute(
        update(Operator)
        .where(Operator.id == operator_id, Operator.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound("no such active operator")
    await session.commit()


async def list_operators(session: AsyncSession) -> list[Operator]:
    return list(await session.scalars(select(Operator).order_by(Operator.id)))
