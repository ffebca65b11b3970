"""The one exception tree of the service.

Domain code raises these; the web layer maps each class to an HTTP status in one table
(`responders.api.errors`) and answers `{"code": ..., "detail": ...}`.
"""

from __future__ import annotations

__all__ = [
    "Collided",
    "Conflict",
    "DatabaseTimeout",
    "DatabaseUnavailable",
    "EhboError",
    "Forbidden",
    "IllegalTransition",
    "InvalidInput",
    "NotFound",
    "OffNetworkUnconfirmed",
    "OutsideCoverage",
    "RateLimited",
    "RejectedValue",
    "TileBuildError",
    "Unauthorized",
    "Unavailable",
    "WrongCaller",
]


class EhboError(Exception):
    """Base of every error the service reports to a caller."""

    code = "error"

    def __init__(self, detail: str, **extra: object) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidInput(EhboError):
    """Input that passed parsing but breaks a domain rule; `field` names the culprit."""

    code = "invalid"

    def __init__(self, detail: str, *, field: str, **extra: object) -> None:
        # The same body as a request that fails validation: every 422 lists its problems.
        extra.setdefault("errors", [{"field": field, "message": detail}])
        super().__init__(detail, field=field, **extra)


class RejectedValue(EhboError):
    """A value the database refused (out of range, malformed) that validation let through;
    which field it was is not known here. Validation should catch it first."""

    code = "invalid"


class OutsideCoverage(InvalidInput):
    code = "outside_coverage"


class OffNetworkUnconfirmed(InvalidInput):
    """An operator's incident off the walking network: accepted only once confirmed."""

    code = "confirm_off_network"


class Unauthorized(EhboError):
    code = "unauthorized"


class Forbidden(EhboError):
    code = "forbidden"


class WrongCaller(Forbidden):
    """A valid credential of the wrong kind for the route: 403, since signing in again
    would not help (401 tells a client exactly that). `route_for` names who the route is
    for (`operator`, `coordinator`, `volunteer`), `given` the kind of token that came."""

    code = "wrong_caller"

    def __init__(self, route_for: str, *, given: str) -> None:
        article = "an" if given[:1] in "aeiou" else "a"
        super().__init__(
            f"this route is for {route_for}s, and this is {article} {given}'s token",
            route_for=route_for,
            given=given,
        )


class NotFound(EhboError):
    code = "not_found"


class Conflict(EhboError):
    code = "conflict"


class IllegalTransition(Conflict):
    """A lifecycle action that the current state does not allow; says the current state."""

    code = "illegal_transition"


class RateLimited(EhboError):
    code = "rate_limited"

    def __init__(self, detail: str, *, retry_after_s: int) -> None:
        super().__init__(detail, retry_after_s=retry_after_s)
        self.retry_after_s = retry_after_s


class Unavailable(EhboError):
    """A part the request needs is not there right now (503)."""

    code = "unavailable"


class DatabaseUnavailable(Unavailable):
    code = "database_unavailable"


class Collided(Unavailable):
    """The database undid the request because it collided with a concurrent one (a deadlock,
    a serialization failure): the same request again will most likely pass."""

    code = "retry"


class DatabaseTimeout(Unavailable):
    """A statement ran past its time limit (`EHBO_DB_STATEMENT_TIMEOUT_MS`) and was cancelled."""

    code = "database_timeout"


class TileBuildError(Unavailable):
    """The map's vector tiles could not be built (the tile builder failed)."""

    code = "tile_build_failed"
