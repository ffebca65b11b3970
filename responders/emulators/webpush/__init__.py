"""A local Web Push service (RFC 8030/8291/8292) for the demo and the tests (see `server`).

Not the sender: that is `responders.push`, which never imports this package. `SubscriberKeys`
is the browser's half (keys for a subscription, and decrypting what arrived).
"""

from __future__ import annotations

from responders.emulators.webpush._admin import create_subscription, endpoint_of
from responders.emulators.webpush._keys import SubscriberKeys
from responders.emulators.webpush._push import MAX_BODY_BYTES, MAX_TTL_S
from responders.emulators.webpush._state import (
    FAULT_STATUSES,
    FaultRule,
    ReceivedPush,
    Subscription,
    WebPushServerState,
)
from responders.emulators.webpush._vapid import MAX_EXPIRY_S
from responders.emulators.webpush.server import (
    WebPushServerThread,
    create_webpush_app,
    main,
    run_webpush_server,
)

__all__ = [
    "FAULT_STATUSES",
    "MAX_BODY_BYTES",
    "MAX_EXPIRY_S",
    "MAX_TTL_S",
    "FaultRule",
    "ReceivedPush",
    "SubscriberKeys",
    "Subscription",
    "WebPushServerState",
    "WebPushServerThread",
    "create_subscription",
    "create_webpush_app",
    "endpoint_of",
    "main",
    "run_webpush_server",
]
