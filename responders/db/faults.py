"""What a database driver's error means, decided in one place.

The gateway (`responders.db.gateway._mapped`) asks `domain_error` about every driver error,
so "the database is not reachable" is said only when it is true: a connection could not be
had or was lost. A collision with a concurrent transaction, a statement timeout and a value
the database rejected each say what they are; anything else is a fault of ours and is
reported (and logged) as one.
"""

from __future__ import annotations

import psycopg
from psycopg import errors as pg
from psycopg_pool import PoolTimeout

from responders.errors import (
    Collided,
    DatabaseTimeout,
    DatabaseUnavailable,
    EhboError,
    RejectedValue,
)

__all__ = ["domain_error", "is_collision", "is_connection_lost"]

# Connection exceptions (class 08), and a server shutting down, crashed or still starting up;
# too many clients means no connection can be had either.
_UNREACHABLE_PREFIX = "08"
_UNREACHABLE_STATES = frozenset({"57P01", "57P02", "57P03", "53300"})
# Undone because of a concurrent transaction: run again, it will most likely pass. A lock
# not obtained in time (lock_timeout, NOWAIT) is a collision too.
_COLLISIONS = (pg.DeadlockDetected, pg.SerializationFailure, pg.LockNotAvailable)


def is_connection_lost(exc: BaseException) -> bool:
    """No connection could be had, or the one in use was lost: the database is unreachable."""
    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, psycopg.OperationalError):
        return False
    # The driver's own connection failures ("connection refused", "server closed the
    # connection unexpectedly", "the connection is closed") carry no SQLSTATE.
    state = exc.sqlstate
    return state is None or state.startswith(_UNREACHABLE_PREFIX) or state in _UNREACHABLE_STATES


def is_collision(exc: BaseException) -> bool:
    """A deadlock or serialization failure: the transaction was undone and may be retried."""
    return isinstance(exc, _COLLISIONS)


def domain_error(exc: BaseException) -> EhboError | None:
    """The domain error a driver error stands for; None when it is a plain fault (a bug, a
    broken statement, a full disk …), which callers let through to be logged as a 500."""
    if is_collision(exc):
        return Collided("the request collided with another one; try again")
    if isinstance(exc, pg.QueryCanceled):
        return DatabaseTimeout("the database took too long to answer; try again")
    if isinstance(exc, psycopg.DataError):
        # Validation should have caught it; the database's word is the last line of defence.
        return RejectedValue("a value is malformed or out of range")
    if is_connection_lost(exc):
        return DatabaseUnavailable("the database is not reachable")
    return None
