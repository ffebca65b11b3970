"""What a push says. No location or address travels in a push: the app fetches the alert.

A stand-down says why the incident ended (`responders.endings`: the reason's code in the
data, its sentence in the text; never the operator's note). An update says the incident was
corrected: the app reads the alert again, which shows the new address and pin."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from responders.endings import reason_sentence
from responders.push import PushMessage, WebPushKeys

__all__ = ["Claimed", "Device", "push_for"]

_KIND_TEXT = {
    "cardiac_arrest": "Cardiac arrest",
    "unconscious": "Unconscious person",
    "breathing": "Breathing problem",
    "bleeding": "Severe bleeding",
    "other": "Emergency",
}


@dataclass(frozen=True, slots=True)
class Claimed:
    """An outbox row with what the push needs of its alert."""

    outbox_id: int
    kind: str
    attempts: int
    unconfirmed: int
    lease: dt.datetime  # fences every write: see `outbox`
    seconds_left: float
    alert_id: int
    alert_status: str
    incident_id: int
    incident_kind: str
    responder_id: int | None
    role: str
    walk_seconds: float
    stand_down_reason: str | None
    end_reason: str | None = None  # why the incident was closed or cancelled


@dataclass(frozen=True, slots=True)
class Device:
    """A registered device: an FCM token, or a Web Push endpoint (`token`) with its keys."""

    id: int
    token: str
    platform: str
    kind: str = "fcm"
    webpush_keys: WebPushKeys | None = None


def _title_body(item: Claimed) -> tuple[str, str]:
    what = _KIND_TEXT.get(item.incident_kind, "Emergency")
    minutes = max(1, round(item.walk_seconds / 60))
    if item.kind == "alert" and item.role == "via_aed":
        return f"{what} nearby — fetch the AED", f"AED first, then about {minutes} min on foot."
    if item.kind == "alert":
        return f"{what} nearby — can you help?", f"About {minutes} min on foot. Tap to answer."
    if item.kind == "no_longer_needed":
        return "No longer needed", "Enough responders are on their way. Thank you."
    if item.kind == "update":
        return f"{what}: details changed", "The address or location changed. Tap to see it."
    why = reason_sentence(item.end_reason)
    if why:
        return "Stand down", f"Stood down: {why}. Thank you."
    return "Stand down", f"The incident is {item.stand_down_reason or 'over'}. Thank you."


def _extra(item: Claimed) -> dict[str, str]:
    """A stand-down's reason code, for the app (versioned data: strings only)."""
    if item.kind == "stand_down" and item.end_reason:
        return {"reason": item.end_reason}
    return {}


def push_for(item: Claimed, device: Device, ttl_s: int) -> PushMessage:
    title, body = _title_body(item)
    return PushMessage(
        token=device.token,
        platform=device.platform,  # type: ignore[arg-type]
        kind=item.kind,  # type: ignore[arg-type]
        alert_id=item.alert_id,
        incident_id=item.incident_id,
        role=item.role if item.kind == "alert" else None,
        title=title,
        body=body,
        ttl_s=ttl_s,
        extra=_extra(item),
        channel="webpush" if device.kind == "webpush" else "fcm",
        webpush_keys=device.webpush_keys,
    )
