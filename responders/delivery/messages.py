"""What a push says. No location or address travels in a push: the app fetches the alert."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from responders.push import PushMessage

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


@dataclass(frozen=True, slots=True)
class Device:
    id: int
    token: str
    platform: str


def _title_body(item: Claimed) -> tuple[str, str]:
    what = _KIND_TEXT.get(item.incident_kind, "Emergency")
    minutes = max(1, round(item.walk_seconds / 60))
    if item.kind == "alert" and item.role == "via_aed":
        return f"{what} nearby — fetch the AED", f"AED first, then about {minutes} min on foot."
    if item.kind == "alert":
        return f"{what} nearby — can you help?", f"About {minutes} min on foot. Tap to answer."
    if item.kind == "no_longer_needed":
        return "No longer needed", "Enough responders are on their way. Thank you."
    return "Stand down", f"The incident is {item.stand_down_reason or 'over'}. Thank you."


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
    )
