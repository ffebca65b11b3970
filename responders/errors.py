"""The one exception tree of the service.

Domain code raises these; the web layer maps each class to an HTTP status in one table
(`responders.api.errors`) and answers `{"code": ..., "detail": ...}`.
"""

from __future__ import annotations

__all__ = [
    "Conflict",
    "DatabaseUnavailable",
    "EhboError",
    "Forbidden",
    "IllegalTransition",
    "InvalidInput",
    "NotFound",
    "OffNetworkUnconfirmed",
    "OutsideCoverage",
    "RateLimited",
    "Unauthorized",
    "Unavailable",
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
        super().__init__(detail, field=field, **extra)


class OutsideCoverage(InvalidInput):
    code = "outside_coverage"


class OffNetworkUnconfirmed(InvalidInput):
    """An operator's incident off the walking network: accepted only once confirmed."""

    code = "confirm_off_network"


class Unauthorized(EhboError):
    code = "unauthorized"


class Forbidden(EhboError):
    code = "forbidden"


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
