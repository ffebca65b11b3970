"""Push notifications: FCM payloads and the firebase-admin client.

The local FCM server used by the demo and the tests is `responders.emulators.fcm`.
"""

from __future__ import annotations

from responders.push.fcm import FcmConfig, PushClient, SendOutcome, SendResult
from responders.push.payload import PushMessage, build_message

__all__ = [
    "FcmConfig",
    "PushClient",
    "PushMessage",
    "SendOutcome",
    "SendResult",
    "build_message",
]
