"""The Web Push channel: RFC 8030 messages, encrypted (RFC 8291, aes128gcm) and signed
(VAPID, RFC 8292) by pywebpush, to each subscription's push service.

Like `PushClient` for FCM, `send()` makes exactly one attempt per message and maps every
answer to a `SendOutcome`: retries, backoff and Retry-After belong to the outbox worker. So
the HTTP adapters have `max_retries=0`, and redirects are never followed (a redirect could
lead to an address we refused). Each message goes out on a pooled connection from a thread
pool, so a batch to many push services takes about as long as its slowest answer.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any, Self

import http_ece
import requests
import requests.adapters
from pywebpush import WebPusher, WebPushException

from responders.push.channels import SendOutcome, SendResult, retry_after_s
from responders.push.endpoints import refusal_before_send
from responders.push.payload import PushMessage, collapse_key, webpush_payload
from responders.push.vapid import VapidKey

__all__ = ["WebPushClient", "outcome_for_status"]

_WORKERS = 32


class _NoRedirects(requests.Session):
    """A push service answers; it never redirects. One that does is not followed."""

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        return None


def outcome_for_status(status: int) -> SendOutcome:
    """A push service's answer (RFC 8030 §5, and what Mozilla, Google and Apple send)."""
    if 200 <= status < 300:
        return SendOutcome.SENT
    if status in (404, 410):  # the subscription expired or was removed: delete the device
        return SendOutcome.UNREGISTERED
    if status == 429 or status >= 500:
        return SendOutcome.RETRY
    if status in (401, 403):  # our VAPID key or JWT was refused: an operator must act
        return SendOutcome.AUTH_ERROR
    return SendOutcome.INVALID  # 400, 413, a redirect…: this message cannot go


class WebPushClient:
    """One per worker process; `send()` is thread-safe, `close()` frees the connections."""

    def __init__(self, key: VapidKey, *, timeout_s: float, allow_loopback: bool) -> None:
        self._key = key
        self._timeout_s = timeout_s
        self._allow_loopback = allow_loopback
        self._session = _NoRedirects()
        adapter = requests.adapters.HTTPAdapter(
            pool_connections=8, pool_maxsize=_WORKERS, max_retries=0
        )
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        if allow_loopback:
            # No proxy from HTTP(S)_PROXY between us and a local push service.
            self._session.trust_env = False
        self._pool = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="webpush")
        self._lock = threading.Lock()
        self._closed = False

    def send(self, messages: Sequence[PushMessage]) -> list[SendResult]:
        """One attempt per message, results in the order given."""
        if self._closed:
            raise RuntimeError("WebPushClient is closed")
        if len(messages) == 1:  # no thread hop for the common single alert
            return [self._send_one(messages[0])]
        return list(self._pool.map(self._send_one, messages))

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._pool.shutdown(wait=True)
        self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _send_one(self, push: PushMessage) -> SendResult:
        keys = push.webpush_keys
        if keys is None:
            return _invalid("NO_KEYS", "a Web Push message needs the subscription's keys")
        refusal = refusal_before_send(push.token, allow_loopback=self._allow_loopback)
        if refusal is not None:
            return _invalid("PRIVATE_ADDRESS", refusal)
        try:
            body = webpush_payload(push)
            pusher = WebPusher(
                {"endpoint": push.token, "keys": {"p256dh": keys.p256dh, "auth": keys.auth}},
                requests_session=self._session,
            )
        except (ValueError, WebPushException) as exc:
            return _invalid("LOCAL_VALIDATION", str(exc))
        headers = {
            "Urgency": "high",
            # A newer message of the incident (its stand-down) replaces one still queued.
            "Topic": collapse_key(push.incident_id),
            "Authorization": self._key.authorization(push.token),
        }
        try:
            response: Any = pusher.send(
                data=body,
                headers=headers,
                ttl=push.ttl_s,
                content_encoding="aes128gcm",
                timeout=self._timeout_s,
            )
        except (WebPushException, ValueError, http_ece.ECEException) as exc:
            # Keys that cannot encrypt, a URL requests refuses (its InvalidURL is a ValueError).
            return _invalid("LOCAL_VALIDATION", str(exc))
        except requests.ConnectTimeout as exc:  # never sent: plainly worth another try
            return SendResult(SendOutcome.RETRY, error_code="UNAVAILABLE", detail=str(exc))
        except requests.Timeout as exc:
            # Sent, unanswered: it may have arrived (the worker bounds such repeats).
            return SendResult(SendOutcome.RETRY, error_code="DEADLINE_EXCEEDED", detail=str(exc))
        except requests.RequestException as exc:
            return SendResult(SendOutcome.RETRY, error_code="UNAVAILABLE", detail=str(exc))
        return _result(response)


def _result(response: requests.Response) -> SendResult:
    status = response.status_code
    outcome = outcome_for_status(status)
    if outcome is SendOutcome.SENT:
        # The push service's Location names the message (RFC 8030 §5): the receipt.
        return SendResult(outcome, message_id=response.headers.get("Location"), http_status=status)
    return SendResult(
        outcome,
        error_code=f"WEBPUSH_{status}",
        detail=response.text[:200],
        retry_after_s=retry_after_s(response) if outcome is SendOutcome.RETRY else None,
        http_status=status,
    )


def _invalid(code: str, detail: str) -> SendResult:
    return SendResult(SendOutcome.INVALID, error_code=code, detail=detail)
