"""Who is calling: bearer tokens to principals. Lookups go by digest (see `security`).

A route looks the token up among its own kind of caller only: one lookup on the happy path.
Only when that lookup fails is the other kind consulted, to tell a valid credential of the
wrong kind (403: signing in again would not help) from an unknown or revoked one (401).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, NoReturn

from responders.db.gateway import Database, Reader
from responders.errors import Forbidden, Unauthorized, WrongCaller
from responders.registry import store
from responders.security import digest_matches, hash_token

__all__ = [
    "CallerKind",
    "OperatorPrincipal",
    "authenticate_any",
    "authenticate_operator",
    "authenticate_responder",
    "credential_valid",
    "refuse",
    "require_role",
]

CallerKind = Literal["operator", "volunteer"]


@dataclass(frozen=True, slots=True)
class OperatorPrincipal:
    id: int
    name: str
    role: str


# On the autocommit pool: one round trip, no transaction (every request does it); a lookup
# is a read, so the gateway sends it again on a connection lost under it.
_LOOKUPS: dict[CallerKind, Callable[[Reader, bytes], Awaitable[list[tuple[Any, ...]]]]] = {
    "operator": store.operator_credentials,
    "volunteer": store.responder_token_credentials,
}
_UNAUTHORIZED: dict[CallerKind, str] = {
    "operator": "invalid or revoked operator token",
    "volunteer": "invalid or revoked volunteer token",
}


async def authenticate_responder(db: Database, token: str) -> int:
    row = await _lookup(db, "volunteer", token)
    if row is None:
        await refuse(db, token, "volunteer")
    return int(row[1])


async def authenticate_operator(
    db: Database, token: str, *, role: str = "operator"
) -> OperatorPrincipal:
    """`role` only words the refusal of a volunteer's token ("for coordinators")."""
    row = await _lookup(db, "operator", token)
    if row is None:
        await refuse(db, token, "operator", route_for=role)
    return OperatorPrincipal(id=row[1], name=row[2], role=row[3])


async def authenticate_any(db: Database, token: str) -> OperatorPrincipal | int:
    """An operator, or a volunteer (by id), for routes both may use. The token's prefix
    (see `security.new_token`) only picks which kind to look up first, so the usual caller
    costs one lookup; the database alone decides."""
    kinds: tuple[CallerKind, ...] = (
        ("volunteer", "operator") if token.startswith("ehbo_rs_") else ("operator", "volunteer")
    )
    for kind in kinds:
        row = await _lookup(db, kind, token)
        if row is not None:
            return int(row[1]) if kind == "volunteer" else OperatorPrincipal(*row[1:4])
    raise Unauthorized("invalid or revoked token")


async def refuse(
    db: Database, token: str, kind: CallerKind, *, route_for: str | None = None
) -> NoReturn:
    """`token` failed the lookup of a route for `kind` callers: 403 when it is a valid
    credential of the other kind, naming who the route is for; 401 otherwise."""
    other: CallerKind = "volunteer" if kind == "operator" else "operator"
    if await _lookup(db, other, token) is not None:
        raise WrongCaller(route_for or kind, given=other)
    raise Unauthorized(_UNAUTHORIZED[kind])


async def credential_valid(db: Database, token: str, kind: CallerKind) -> bool:
    """Whether `token` still is a valid credential of `kind` (for long-lived answers, such
    as event streams, that must end when it is revoked or its volunteer erased)."""
    return await _lookup(db, kind, token) is not None


async def _lookup(db: Database, kind: CallerKind, token: str) -> tuple[Any, ...] | None:
    """The row whose digest (always the first column) matches `token`, if any."""
    rows = await _LOOKUPS[kind](db, hash_token(token))
    return next((r for r in rows if digest_matches(bytes(r[0]), token)), None)


def require_role(principal: OperatorPrincipal, role: str) -> OperatorPrincipal:
    if principal.role != role:
        raise Forbidden(f"this needs the {role} role", route_for=role)
    return principal
