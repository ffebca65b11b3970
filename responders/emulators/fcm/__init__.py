"""A local FCM HTTP v1 emulator for the demo and the tests (see `server`).

Not the push client: that is `responders.push`, which never imports this package, so a
worker does not pull in uvicorn and Starlette.
"""

from __future__ import annotations

from responders.emulators.fcm._errors import FaultKind
from responders.emulators.fcm._state import FaultRule, FcmServerState, ReceivedMessage
from responders.emulators.fcm._validate import MAX_PAYLOAD_BYTES, MAX_TTL_S
from responders.emulators.fcm.server import (
    FcmServerThread,
    create_fcm_app,
    main,
    run_fcm_server,
)

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "MAX_TTL_S",
    "FaultKind",
    "FaultRule",
    "FcmServerState",
    "FcmServerThread",
    "ReceivedMessage",
    "create_fcm_app",
    "main",
    "run_fcm_server",
]
