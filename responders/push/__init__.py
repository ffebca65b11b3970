"""Push notifications over two channels: FCM (firebase-admin) for native apps, Web Push
(pywebpush) for the installed web app, behind one `Deliverer`.

The local FCM server used by the demo and the tests is `responders.emulators.fcm`; the local
Web Push service is `responders.emulators.webpush`.
"""

from __future__ import annotations

from responders.push.channels import Channel, Deliverer, SendOutcome, SendResult, as_deliverer
from responders.push.fcm import FcmConfig, PushClient
from responders.push.payload import PushMessage, WebPushKeys, build_message, webpush_payload
from responders.push.vapid import VapidKey, load_vapid_key
from responders.push.webpush import WebPushClient

__all__ = [
    "Channel",
    "Deliverer",
    "FcmConfig",
    "PushClient",
    "PushMessage",
    "SendOutcome",
    "SendResult",
    "VapidKey",
    "WebPushClient",
    "WebPushKeys",
    "as_deliverer",
    "build_message",
    "load_vapid_key",
    "webpush_payload",
]
