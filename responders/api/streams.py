"""Long-lived answers (server-sent events) and the credential that opened them.

A stream outlives its request's authentication: without a re-check, a revoked operator, or
a volunteer who logged out or was erased, would go on receiving whatever it carries. So
every stream holds a `CredentialWatch`, wakes at least every `RECHECK_S` seconds, asks the
watch each time round, and ends as soon as the credential is gone. Streams for operators
take `OperatorWatch`, those for volunteers `VolunteerWatch` (none exists yet).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends

from responders.api.deps import BearerToken, CurrentOperator, CurrentResponder, DbDep
from responders.auth import CallerKind, credential_valid
from responders.db.gateway import Database

__all__ = ["RECHECK_S", "CredentialWatch", "OperatorWatch", "VolunteerWatch"]

# How late a revocation may reach an open stream. Each check is one indexed lookup on the
# autocommit pool, so a few consoles cost next to nothing.
RECHECK_S = 2.0


@dataclass
class CredentialWatch:
    db: Database
    token: str
    kind: CallerKind
    every_s: float = RECHECK_S
    # The request that opened the stream has just authenticated it.
    _checked_at: float = field(default_factory=time.monotonic)

    async def still_valid(self) -> bool:
        """Asks the database at most every `every_s` seconds; between asks, trusts the last."""
        now = time.monotonic()
        if now - self._checked_at < self.every_s:
            return True
        self._checked_at = now
        return await credential_valid(self.db, self.token, self.kind)


async def _operator_watch(_: CurrentOperator, db: DbDep, token: BearerToken) -> CredentialWatch:
    return CredentialWatch(db, token, "operator")


async def _volunteer_watch(_: CurrentResponder, db: DbDep, token: BearerToken) -> CredentialWatch:
    return CredentialWatch(db, token, "volunteer")


# Authenticate the caller as the route's kind (401/403 as any route), then watch the token.
OperatorWatch = Annotated[CredentialWatch, Depends(_operator_watch)]
VolunteerWatch = Annotated[CredentialWatch, Depends(_volunteer_watch)]
