"""The decision behind one `messages:send` call, free of HTTP so it reads top to bottom.

Order: authentication, project, outage, validation, injected faults, unregistered tokens,
then accept. Injected faults come after validation so "fail the next N" counts only sends
that FCM would otherwise have accepted.
"""

from __future__ import annotations

from responders.emulators.fcm._errors import (
    FaultKind,
    Reply,
    fault_reply,
    permission_denied_reply,
    unauthenticated_reply,
)
from responders.emulators.fcm._state import FcmServerState
from responders.emulators.fcm._validate import Violation, parse_send_request

__all__ = ["handle_send"]

_DRY_RUN_ID = "fake_message_id"  # what FCM answers for validate_only


def handle_send(
    state: FcmServerState, project: str, authorization: str | None, raw: bytes
) -> Reply:
    reply = _decide(state, project, authorization, raw)
    state.count_outcome(reply.outcome)
    return reply


def _decide(state: FcmServerState, project: str, authorization: str | None, raw: bytes) -> Reply:
    bearer = _bearer(authorization)
    if bearer is None or (state.access_token is not None and bearer != state.access_token):
        return unauthenticated_reply(present=bearer is not None)
    if state.project_id is not None and project != state.project_id:
        return permission_denied_reply(project)
    outage = state.current_outage()
    if outage is not None:
        return fault_reply(FaultKind.UNAVAILABLE, retry_after_s=outage.retry_after_s)
    try:
        request = parse_send_request(raw)
    except Violation as violation:
        return violation.reply()
    rule = state.take_fault(request.target)
    if rule is not None:
        return fault_reply(rule.kind, retry_after_s=rule.retry_after_s)
    if state.is_unregistered(request.target):
        return fault_reply(FaultKind.UNREGISTERED)
    if request.validate_only:
        return Reply(200, {"name": f"projects/{project}/messages/{_DRY_RUN_ID}"})
    received = state.record(project, request.target_field, request.target, request.message)
    return Reply(200, {"name": received.name})


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None
