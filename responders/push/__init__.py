"""Push notifications: FCM payloads, the firebase-admin client, and a local FCM server.

The server names load on first use, so a worker importing the client does not pull in
uvicorn and Starlette (and `python -m responders.push.fcm_server` runs without a warning).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from responders.push.fcm import FcmConfig, PushClient, SendOutcome, SendResult
from responders.push.payload import PushMessage, build_message

if TYPE_CHECKING:
    from responders.push.fcm_server import (
        FaultKind,
        FcmServerState,
        FcmServerThread,
        ReceivedMessage,
        create_fcm_app,
        run_fcm_server,
    )

__all__ = [
    "FaultKind",
    "FcmConfig",
    "FcmServerState",
    "FcmServerThread",
    "PushClient",
    "PushMessage",
    "ReceivedMessage",
    "SendOutcome",
    "SendResult",
    "build_message",
    "create_fcm_app",
    "run_fcm_server",
]

_SERVER_NAMES = frozenset(
    {
        "FaultKind",
        "FcmServerState",
        "FcmServerThread",
        "ReceivedMessage",
        "create_fcm_app",
        "run_fcm_server",
    }
)


def __getattr__(name: str) -> Any:
    if name in _SERVER_NAMES:
        return getattr(importlib.import_module("responders.push.fcm_server"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
