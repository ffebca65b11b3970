"""The FCM message (and the Web Push payload) for one alert or stand-down, from plain values.

Alerts must wake a dormant phone at once and die quickly: high priority everywhere, a TTL of
a few minutes, iOS critical sound with interruption level critical, a dedicated Android
channel. Every message of one incident shares a collapse key / tag / collapse id, so a
stand-down replaces the alert on the phone. Data fields are versioned (`v`) and strings only,
as FCM requires.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from firebase_admin import messaging

__all__ = [
    "ALERT_CHANNEL_ID",
    "MAX_WEBPUSH_PAYLOAD",
    "PAYLOAD_VERSION",
    "UPDATE_CHANNEL_ID",
    "ChannelKind",
    "Platform",
    "PushKind",
    "PushMessage",
    "TargetField",
    "WebPushKeys",
    "build_message",
    "collapse_key",
    "webpush_payload",
]

PAYLOAD_VERSION = "1"
# Android channels the app creates: alerts may bypass Do Not Disturb with an alarm sound;
# updates (stand-downs) are loud enough to notice, never an alarm.
ALERT_CHANNEL_ID = "ehbo_alerts"
UPDATE_CHANNEL_ID = "ehbo_updates"

Platform = Literal["android", "ios", "web"]
# "update": an operator corrected the incident (address, pin, notes); the app reads it again.
PushKind = Literal["alert", "stand_down", "no_longer_needed", "update"]
TargetField = Literal["fid", "token"]
# The delivery channel of a device: FCM (native apps) or Web Push (the installed web app).
ChannelKind = Literal["fcm", "webpush"]
# A push service must accept 4096 bytes of encrypted body (RFC 8030); aes128gcm adds 86
# bytes (header with the key, padding delimiter, tag) to the plaintext. Ours are ~300.
MAX_WEBPUSH_PAYLOAD = 3993

_CORE_DATA_KEYS = frozenset({"v", "kind", "alert_id", "incident_id", "role"})


@dataclass(frozen=True)
class WebPushKeys:
    """A browser subscription's keys (base64url): its ECDH public key and auth secret."""

    p256dh: str
    auth: str


@dataclass(frozen=True)
class PushMessage:
    """One push to one device: an FCM token, or a Web Push endpoint with its keys."""

    token: str  # the FCM token, or the Web Push subscription's endpoint
    platform: Platform
    kind: PushKind
    alert_id: int
    incident_id: int
    role: str | None  # "direct" / "via_aed"; None for stand-downs
    title: str
    body: str
    ttl_s: int  # the alert is useless after a few minutes
    extra: Mapping[str, str] = field(default_factory=dict)
    channel: ChannelKind = "fcm"
    webpush_keys: WebPushKeys | None = None  # with channel "webpush"


def collapse_key(incident_id: int) -> str:
    return f"incident-{incident_id}"


def build_message(
    push: PushMessage, *, now: float | None = None, target: TargetField = "fid"
) -> messaging.Message:
    """The firebase-admin message; `now` (UNIX seconds) fixes apns-expiration in tests.

    `target` names the FCM field that carries `push.token`. firebase-admin 7.5+ deprecates
    `Message.token` for `Message.fid` (the Firebase Installation ID the current client SDKs
    register), so "fid" is the default; "token" is kept for apps that still register legacy
    registration tokens. Raises ValueError for values FCM would refuse (negative TTL,
    non-string extra data, extra keys that clash with the versioned fields).
    """
    if push.ttl_s < 0:
        raise ValueError(f"ttl_s must not be negative, got {push.ttl_s}")
    issued = time.time() if now is None else now
    content = {
        "data": _data(push),
        "notification": messaging.Notification(title=push.title, body=push.body),
        "android": _android(push) if push.platform == "android" else None,
        "apns": _apns(push, issued) if push.platform == "ios" else None,
        "webpush": _webpush(push) if push.platform == "web" else None,
    }
    if target == "fid":
        return messaging.Message(fid=push.token, **content)
    with warnings.catch_warnings():
        # Chosen deliberately by the caller; the warning would fire once per message.
        warnings.simplefilter("ignore", DeprecationWarning)
        return messaging.Message(token=push.token, **content)


def _data(push: PushMessage) -> dict[str, str]:
    clashes = _CORE_DATA_KEYS & push.extra.keys()
    if clashes:
        raise ValueError(f"extra must not redefine {sorted(clashes)}")
    if not all(isinstance(v, str) for v in push.extra.values()):
        raise ValueError("extra values must be strings (FCM data is string to string)")
    data = {
        "v": PAYLOAD_VERSION,
        "kind": push.kind,
        "alert_id": str(push.alert_id),
        "incident_id": str(push.incident_id),
    }
    if push.role is not None:
        data["role"] = push.role
    return {**data, **push.extra}


def webpush_payload(push: PushMessage) -> bytes:
    """The Web Push message's plaintext (the service worker reads it): the FCM data fields
    plus what a notification needs, since a service worker shows it itself. No address or
    location: the app fetches the alert. Raises ValueError as `build_message` does, or when
    it would not fit a push service's limit."""
    payload: dict[str, str] = {
        **_data(push),
        "title": push.title,
        "body": push.body,
        "url": f"/app#/alerts/{push.alert_id}",
        "tag": collapse_key(push.incident_id),
    }
    encoded = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if len(encoded) > MAX_WEBPUSH_PAYLOAD:
        raise ValueError(f"the payload is {len(encoded)} bytes, over {MAX_WEBPUSH_PAYLOAD}")
    return encoded


def _android(push: PushMessage) -> messaging.AndroidConfig:
    is_alert = push.kind == "alert"
    return messaging.AndroidConfig(
        # Stand-downs are high priority too: they must replace the alert before the
        # responder sets off.
        priority="high",
        ttl=push.ttl_s,
        collapse_key=collapse_key(push.incident_id),
        notification=messaging.AndroidNotification(
            channel_id=ALERT_CHANNEL_ID if is_alert else UPDATE_CHANNEL_ID,
            # The tag makes a later notification of the incident replace the earlier one.
            tag=collapse_key(push.incident_id),
            priority="max" if is_alert else "high",
            visibility="public",
            default_sound=True,
        ),
    )


def _apns(push: PushMessage, issued: float) -> messaging.APNSConfig:
    is_alert = push.kind == "alert"
    sound: messaging.CriticalSound | str = (
        messaging.CriticalSound(name="default", critical=True, volume=1.0)
        if is_alert
        else "default"
    )
    # Critical alerts break through mute and Focus; a stand-down only has to be seen soon.
    level = "critical" if is_alert else "time-sensitive"
    return messaging.APNSConfig(
        headers={
            "apns-priority": "10",
            "apns-push-type": "alert",
            "apns-collapse-id": collapse_key(push.incident_id),
            "apns-expiration": str(int(issued) + push.ttl_s),
        },
        payload=messaging.APNSPayload(
            aps=messaging.Aps(
                alert=messaging.ApsAlert(title=push.title, body=push.body),
                sound=sound,
                thread_id=collapse_key(push.incident_id),
                custom_data={"interruption-level": level},
            ),
        ),
    )


def _webpush(push: PushMessage) -> messaging.WebpushConfig:
    return messaging.WebpushConfig(
        # Topic replaces a pending push of the same incident in the push service.
        headers={
            "TTL": str(push.ttl_s),
            "Urgency": "high",
            "Topic": collapse_key(push.incident_id),
        },
        notification=messaging.WebpushNotification(
            title=push.title,
            body=push.body,
            tag=collapse_key(push.incident_id),
            renotify=True,
            require_interaction=push.kind == "alert",
        ),
    )
