"""What a database driver's error means, decided in one place.

The engine's helpers (`responders.db.engine`) and the web layer's last-resort handlers
(`responders.api.errors`) both ask `domain_error`, so "the database is not reachable" is said
only when it is true: a connection could not be had or was lost. A collision with a concurrent
transaction and a statement timeout each say what they are; anything else is a fault of ours
and is reported (and logged) as one.
"""

from __future__ import annotations

import psycopg
from psycopg import errors as pg
from psycopg_pool import PoolTimeout
from sqlalchemy import exc as sa_exc

from responders.errors import Collided, DatabaseTimeout, DatabaseUnavailable, EhboError

__all__ = ["domain_error", "driver_cause", "is_collision", "is_connection_lost"]

# Connection exceptions (class 08), and a server shutting down, crashed or still starting up;
# too many clients means no connection can be had either.
_UNREACHABLE_PREFIX = "08"
_UNREACHABLE_STATES = frozenset({"57P01", "57P02", "57P03", "53300"})
# Undone because of a concurrent transaction: run again, it will most likely pass. A lock
# not obtained in time (lock_timeout, NOWAIT) is a collision too.
_COLLISIONS = (pg.DeadlockDetected, pg.SerializationFailure, pg.LockNotAvailable)


def driver_cause(exc: BaseException) -> BaseException:
    """The driver's own error inside SQLAlchemy's wrapper, or `exc` itself."""
    if isinstance(exc, sa_exc.DBAPIError) and exc.orig is not None:
        return exc.orig
    return exc


def is_connection_lost(exc: BaseException) -> bool:
    """No connection could be had, or the one in use was lost: the database is unreachable."""
    if isinstance(exc, sa_exc.TimeoutError):  # SQLAlchemy's pool gave no connection in time
        return True
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    cause = driver_cause(exc)
    if isinstance(cause, PoolTimeout):
        return True
    if not isinstance(cause, psycopg.OperationalError):
        return False
    # The driver's own connection failures ("connection refused", "server closed the
    # connection unexpectedly", "the connection is closed") carry no SQLSTATE.
    state = cause.sqlstate
    return state is None or state.startswith(_UNREACHABLE_PREFIX) or state in _UNREACHABLE_STATES


def is_collision(exc: BaseException) -> bool:
    """A deadlock or serialization failure: the transaction was undone and may be retried."""
    return isinstance(driver_cause(exc), _COLLISIONS)


def domain_error(exc: BaseException) -> EhboError | None:
    """The domain error a driver error stands for; None when it is a plain fault (a bug, a
    broken statement, a full disk …), which callers let through to be logged as a 500."""
    if is_collision(exc):
        return Collided("the request collided with another one; try again")
    if isinstance(driver_cause(exc), pg.QueryCanceled):
        return DatabaseTimeout("the database took too long to answer; try again")
    if is_connection_lost(exc):
        return DatabaseUnavailable("the database is not reachable")
    return None
