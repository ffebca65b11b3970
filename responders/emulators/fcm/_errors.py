"""Google-format error replies of the local FCM server.

The bodies copy what fcm.googleapis.com answers, because firebase-admin picks its exception
class from them: `error.details[]` with `@type` FcmError and `errorCode` first
(UNREGISTERED, QUOTA_EXCEEDED, SENDER_ID_MISMATCH, THIRD_PARTY_AUTH_ERROR), then
`error.status` (INVALID_ARGUMENT, UNAVAILABLE, INTERNAL, ...), then the HTTP status.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "FCM_ERROR_TYPE",
    "FaultKind",
    "Reply",
    "fault_reply",
    "invalid_argument_reply",
    "parse_error_reply",
    "permission_denied_reply",
    "unauthenticated_reply",
]

FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
_BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"


class FaultKind(StrEnum):
    """The FCM error codes the server can answer with (FCM's `errorCode` values)."""

    UNREGISTERED = "UNREGISTERED"
    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
    UNAVAILABLE = "UNAVAILABLE"
    INTERNAL = "INTERNAL"
    SENDER_ID_MISMATCH = "SENDER_ID_MISMATCH"
    THIRD_PARTY_AUTH_ERROR = "THIRD_PARTY_AUTH_ERROR"


@dataclass(frozen=True)
class _Spec:
    http_status: int
    grpc_status: str
    message: str


_SPECS: Mapping[FaultKind, _Spec] = {
    FaultKind.UNREGISTERED: _Spec(404, "NOT_FOUND", "Requested entity was not found."),
    FaultKind.INVALID_ARGUMENT: _Spec(
        400, "INVALID_ARGUMENT", "Request contains an invalid argument."
    ),
    FaultKind.QUOTA_EXCEEDED: _Spec(
        429, "RESOURCE_EXHAUSTED", "Quota exceeded for the message target."
    ),
    FaultKind.UNAVAILABLE: _Spec(503, "UNAVAILABLE", "The service is currently unavailable."),
    FaultKind.INTERNAL: _Spec(500, "INTERNAL", "Internal error encountered."),
    FaultKind.SENDER_ID_MISMATCH: _Spec(403, "PERMISSION_DENIED", "SenderId mismatch"),
    FaultKind.THIRD_PARTY_AUTH_ERROR: _Spec(
        401, "UNAUTHENTICATED", "Auth error from APNS or Web Push Service"
    ),
}


@dataclass(frozen=True)
class Reply:
    """An HTTP answer to one send request: status, JSON body, extra headers."""

    status: int
    body: Mapping[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)
    # FCM error code (or "OK") for the server's statistics; not sent on the wire.
    outcome: str = "OK"


def _error_body(
    code: int, status: str, message: str, details: list[dict[str, Any]]
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = details
    return {"error": error}


def fault_reply(
    kind: FaultKind, *, message: str | None = None, retry_after_s: int | None = None
) -> Reply:
    """The reply FCM gives for `kind`; Retry-After is set when given (429 and 503 use it)."""
    spec = _SPECS[kind]
    details = [{"@type": FCM_ERROR_TYPE, "errorCode": kind.value}]
    body = _error_body(spec.http_status, spec.grpc_status, message or spec.message, details)
    headers = {"Retry-After": str(retry_after_s)} if retry_after_s is not None else {}
    return Reply(spec.http_status, body, headers, outcome=kind.value)


def invalid_argument_reply(field_path: str, description: str) -> Reply:
    """A semantic validation failure: FcmError INVALID_ARGUMENT plus the field violation."""
    details = [
        {"@type": FCM_ERROR_TYPE, "errorCode": "INVALID_ARGUMENT"},
        _violation(field_path, description),
    ]
    body = _error_body(400, "INVALID_ARGUMENT", description, details)
    return Reply(400, body, outcome="INVALID_ARGUMENT")


def parse_error_reply(field_path: str, description: str) -> Reply:
    """A JSON/proto parse failure; Google reports these without an FcmError detail."""
    message = f"Invalid JSON payload received. {description}"
    body = _error_body(400, "INVALID_ARGUMENT", message, [_violation(field_path, description)])
    return Reply(400, body, outcome="INVALID_ARGUMENT")


def unauthenticated_reply(*, present: bool) -> Reply:
    """401 for a missing or rejected bearer token (no FcmError detail, as Google does)."""
    message = (
        "Request had invalid authentication credentials. Expected OAuth 2 access token."
        if present
        else "Request is missing required authentication credential. Expected OAuth 2 access token."
    )
    return Reply(401, _error_body(401, "UNAUTHENTICATED", message, []), outcome="UNAUTHENTICATED")


def permission_denied_reply(project: str) -> Reply:
    """403 for a project this server does not serve, worded like Google's IAM refusal."""
    message = (
        "Permission 'cloudmessaging.messages.create' denied on resource "
        f"'//cloudresourcemanager.googleapis.com/projects/{project}' (or it may not exist)."
    )
    body = _error_body(403, "PERMISSION_DENIED", message, [])
    return Reply(403, body, outcome="PERMISSION_DENIED")


def _violation(field_path: str, description: str) -> dict[str, Any]:
    return {
        "@type": _BAD_REQUEST_TYPE,
        "fieldViolations": [{"field": field_path, "description": description}],
    }
