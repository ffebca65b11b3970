"""One delivery interface over the push channels: FCM for native apps, Web Push for the
installed web app. The outbox worker hands a `Deliverer` one batch of messages, each
addressed to one device over that device's channel; the deliverer splits it by channel,
sends the parts at the same time, and returns the results in the batch's order.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import requests

from responders.push.payload import ChannelKind, PushMessage

__all__ = [
    "Channel",
    "Deliverer",
    "SendOutcome",
    "SendResult",
    "as_deliverer",
    "retry_after_s",
]


class SendOutcome(StrEnum):
    SENT = "sent"
    UNREGISTERED = "unregistered"  # delete the token
    INVALID = "invalid"  # fail this message; retrying cannot help
    RETRY = "retry"  # transient: back off (at least retry_after_s) and send again
    AUTH_ERROR = "auth_error"  # credentials, APNs/web-push keys, project: an operator must act


@dataclass(frozen=True)
class SendResult:
    """What one attempt to one device came to, whichever the channel."""

    outcome: SendOutcome
    # When sent: FCM's "projects/{project}/messages/{id}", or a Web Push service's Location.
    message_id: str | None = None
    error_code: str | None = None  # FCM errorCode, else the platform code (DEADLINE_EXCEEDED)
    detail: str | None = None
    retry_after_s: float | None = None  # from the push service's Retry-After, when it sent one
    http_status: int | None = None


def retry_after_s(response: requests.Response | None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date (RFC 9110)."""
    value = response.headers.get("Retry-After") if response is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class Channel(Protocol):
    """A way to devices: one attempt per message, results in the order given."""

    def send(self, messages: Sequence[PushMessage]) -> list[SendResult]: ...

    def close(self) -> None: ...


class Deliverer:
    """The channels by kind; a kind without one (Web Push switched off) fails its messages
    as INVALID: retrying cannot help, and the alert is replaced like a decline."""

    def __init__(self, fcm: Channel | None = None, webpush: Channel | None = None) -> None:
        self._channels: dict[ChannelKind, Channel] = {}
        if fcm is not None:
            self._channels["fcm"] = fcm
        if webpush is not None:
            self._channels["webpush"] = webpush
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="deliverer")

    def send(self, messages: Sequence[PushMessage]) -> list[SendResult]:
        by_kind: dict[ChannelKind, list[int]] = {}
        for index, message in enumerate(messages):
            by_kind.setdefault(message.channel, []).append(index)
        results: list[SendResult | None] = [None] * len(messages)
        parts = list(by_kind.items())
        # All but the first part on the helper thread, the first on this one, at once.
        pending = [
            (indices, self._pool.submit(self._send_part, kind, messages, indices))
            for kind, indices in parts[1:]
        ]
        if parts:
            kind, indices = parts[0]
            self._place(results, indices, self._send_part(kind, messages, indices))
        for indices, future in pending:
            self._place(results, indices, future.result())
        return [r for r in results if r is not None]

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        for channel in self._channels.values():
            channel.close()

    def _send_part(
        self, kind: ChannelKind, messages: Sequence[PushMessage], indices: list[int]
    ) -> list[SendResult]:
        channel = self._channels.get(kind)
        if channel is None:
            off = SendResult(
                SendOutcome.INVALID,
                error_code="CHANNEL_OFF",
                detail=f"{kind} delivery is not configured in this worker",
            )
            return [off] * len(indices)
        return channel.send([messages[i] for i in indices])

    @staticmethod
    def _place(
        results: list[SendResult | None], indices: list[int], sent: list[SendResult]
    ) -> None:
        for index, result in zip(indices, sent, strict=True):
            results[index] = result


def as_deliverer(client: Channel) -> Deliverer:
    """A bare channel (a `PushClient`, as the FCM-only worker took) is the FCM channel."""
    return client if isinstance(client, Deliverer) else Deliverer(fcm=client)
