"""Operators and coordinators: created and revoked from the command line."""

from __future__ import annotations

from dataclasses import dataclass

from responders.db.gateway import Database
from responders.errors import NotFound
from responders.registry import store
from responders.registry.store import OperatorRow
from responders.security import hash_token, new_token

__all__ = ["NewOperator", "create_operator", "list_operators", "revoke_operator"]


@dataclass(frozen=True)
class NewOperator:
    id: int
    name: str
    role: str
    token: str


async def create_operator(db: Database, name: str, role: str) -> NewOperator:
    token = new_token("op")
    operator_id = await store.insert_operator(db, name=name, role=role, digest=hash_token(token))
    return NewOperator(id=operator_id, name=name, role=role, token=token)


async def revoke_operator(db: Database, operator_id: int) -> None:
    if not await store.revoke_operator(db, operator_id):
        raise NotFound("no such active operator")


async def list_operators(db: Database) -> list[OperatorRow]:
    return await store.operators(db)
