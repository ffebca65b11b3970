"""Sending pushes through firebase-admin's real messaging client, to FCM or the local server.

firebase-admin has no messaging emulator setting. Its messaging service object keeps the
endpoint in `_fcm_url` and its requests-based HTTP client in `_client`; `PushClient` sets
both after creating the service. With `FcmConfig.endpoint` the app gets a fixed local bearer
token that never refreshes (nothing ever calls Google); without it, a service-account file or
application-default credentials.

Retries belong to the notification worker (backoff with jitter, Retry-After, until the alert
expires), so the library's own are switched off: by default firebase-admin mounts a urllib3
`Retry` that repeats 500/503 up to 4 times with backoff *and* honours Retry-After on
429/503 by sleeping inside `send_each`. `PushClient` replaces the HTTP client with one whose
adapters have `max_retries=0`; each `send()` makes exactly one attempt per message.
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import firebase_admin
import google.auth.credentials
import google.auth.exceptions
import google.auth.transport.requests
import requests.adapters
from firebase_admin import _http_client, credentials, exceptions, messaging

from responders.push.channels import SendOutcome, SendResult, retry_after_s
from responders.push.payload import PushMessage, TargetField, build_message

__all__ = ["FcmConfig", "PushClient", "result_from_exception"]

# One connection per concurrent send; send_each runs one thread per message.
_POOL_SIZE = 100
_MAX_BATCH = 500  # send_each refuses more
_LOCAL_BEARER = "local-fcm-access-token"
_FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"


@dataclass(frozen=True)
class FcmConfig:
    """Where and how to send. `endpoint=None` means Google's real FCM."""

    project_id: str
    endpoint: str | None = None  # e.g. "http://127.0.0.1:8765" for the local server
    service_account_file: str | os.PathLike[str] | None = None  # None: application default
    timeout_s: float = 5.0
    target_field: TargetField = "fid"  # see payload.build_message


class _LocalCredentials(google.auth.credentials.Credentials):
    """A fixed bearer token that is always valid, so google-auth never refreshes it."""

    def __init__(self, token: str = _LOCAL_BEARER) -> None:
        super().__init__()
        self.token = token

    def refresh(self, request: Any) -> None:
        # Never reached while the token is valid; kept harmless should a 401 ask for it.
        pass


class _LocalCredential(credentials.Base):
    """firebase-admin credential wrapper handing the messaging service the local token."""

    def __init__(self) -> None:
        self._google = _LocalCredentials()

    def get_credential(self) -> google.auth.credentials.Credentials:
        return self._google


class PushClient:
    """One per worker process: one firebase_admin.App (unique name) and its HTTP client.

    `send()` is thread-safe; `close()` releases the app and its connections.
    """

    def __init__(self, config: FcmConfig) -> None:
        self._config = config
        options = {"projectId": config.project_id, "httpTimeout": config.timeout_s}
        self._app = firebase_admin.initialize_app(
            _firebase_credential(config), options, name=f"ehbo-push-{uuid.uuid4().hex}"
        )
        self._refresh_lock = threading.Lock()
        self._closed = False
        try:
            service = messaging._get_messaging_service(self._app)
            self._credential: google.auth.credentials.Credentials = service._credential
            self._http = _install_http_client(service, config, self._credential)
        except BaseException:
            _delete_app(self._app)
            raise

    @property
    def app(self) -> firebase_admin.App:
        """The firebase-admin app, already pointed at the endpoint (for calls not wrapped)."""
        return self._app

    def send(self, messages: Sequence[PushMessage]) -> list[SendResult]:
        """One attempt per message, results in the order given."""
        if self._closed:
            raise RuntimeError("PushClient is closed")
        results: list[SendResult | None] = [None] * len(messages)
        ready: list[tuple[int, messaging.Message]] = []
        for index, push in enumerate(messages):
            try:
                message = build_message(push, target=self._config.target_field)
                str(message)  # encodes and validates; one bad message would abort send_each
            except ValueError as exc:
                results[index] = SendResult(
                    SendOutcome.INVALID, error_code="LOCAL_VALIDATION", detail=str(exc)
                )
            else:
                ready.append((index, message))
        for start in range(0, len(ready), _MAX_BATCH):
            chunk = ready[start : start + _MAX_BATCH]
            sent = self._send_batch([message for _, message in chunk])
            for (index, _), result in zip(chunk, sent, strict=True):
                results[index] = result
        return [r for r in results if r is not None]

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        _delete_app(self._app)
        # firebase-admin's service close() only closes its async client, not this one.
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _send_batch(self, batch: list[messaging.Message]) -> list[SendResult]:
        if not batch:  # send_each would fail making a thread pool of size 0
            return []
        failure = self._ensure_token()
        if failure is not None:
            return [failure] * len(batch)
        try:
            response = messaging.send_each(batch, app=self._app)
        except exceptions.FirebaseError as exc:
            return [result_from_exception(exc)] * len(batch)
        return [_result(r) for r in response.responses]

    def _ensure_token(self) -> SendResult | None:
        # Refresh once here instead of in each of send_each's threads at the same time; a
        # failed refresh then fails the batch cleanly rather than as an UnknownError.
        if self._credential.valid:
            return None
        with self._refresh_lock:
            if self._credential.valid:
                return None
            request = google.auth.transport.requests.Request()
            try:
                self._credential.refresh(functools.partial(request, timeout=self._config.timeout_s))
            except google.auth.exceptions.RefreshError as exc:
                outcome = SendOutcome.RETRY if exc.retryable else SendOutcome.AUTH_ERROR
                return SendResult(outcome, error_code="TOKEN_REFRESH", detail=str(exc))
            except google.auth.exceptions.TransportError as exc:
                return SendResult(SendOutcome.RETRY, error_code="TOKEN_REFRESH", detail=str(exc))
        return None


def result_from_exception(exc: exceptions.FirebaseError) -> SendResult:
    """Maps firebase-admin's exception for one message to what the worker should do."""
    response = exc.http_response
    return SendResult(
        outcome=_outcome(exc),
        error_code=_fcm_error_code(exc),
        detail=str(exc),
        retry_after_s=retry_after_s(response),
        http_status=response.status_code if response is not None else None,
    )


def _outcome(exc: exceptions.FirebaseError) -> SendOutcome:
    if isinstance(exc, messaging.UnregisteredError):
        return SendOutcome.UNREGISTERED
    # SENDER_ID_MISMATCH concerns this token (issued for another sender); deleting it could
    # wipe every token after a project misconfiguration, so only this message fails.
    invalid = (
        messaging.SenderIdMismatchError,
        exceptions.InvalidArgumentError,
        exceptions.FailedPreconditionError,
        exceptions.OutOfRangeError,
    )
    if isinstance(exc, invalid):
        return SendOutcome.INVALID
    # A 404 that is not UNREGISTERED means a wrong project or endpoint: like bad credentials,
    # configuration an operator must fix, not a verdict on this message.
    config_errors = (
        exceptions.UnauthenticatedError,
        exceptions.PermissionDeniedError,
        exceptions.NotFoundError,
    )
    if isinstance(exc, config_errors):
        return SendOutcome.AUTH_ERROR
    # QUOTA_EXCEEDED, UNAVAILABLE, INTERNAL, DEADLINE_EXCEEDED (timeouts), connection
    # failures (UnavailableError) and anything unknown are worth another try.
    return SendOutcome.RETRY


def _result(response: messaging.SendResponse) -> SendResult:
    if response.success:
        return SendResult(SendOutcome.SENT, message_id=response.message_id)
    return result_from_exception(response.exception)


def _fcm_error_code(exc: exceptions.FirebaseError) -> str:
    response = exc.http_response
    try:
        details = response.json()["error"]["details"] if response is not None else []
    except (ValueError, KeyError, TypeError):
        details = []
    for detail in details if isinstance(details, list) else []:
        if isinstance(detail, dict) and detail.get("@type") == _FCM_ERROR_TYPE:
            return str(detail.get("errorCode") or exc.code)
    return str(exc.code)


def _firebase_credential(config: FcmConfig) -> credentials.Base:
    if config.endpoint is not None:
        return _LocalCredential()
    if config.service_account_file is not None:
        return credentials.Certificate(config.service_account_file)
    return credentials.ApplicationDefault()


def _install_http_client(
    service: Any, config: FcmConfig, credential: google.auth.credentials.Credentials
) -> Any:
    """Points the messaging service at `config.endpoint` with a retry-free HTTP client."""
    needed = ("_fcm_url", "_fcm_topic_url", "_client", "_credential")
    missing = [name for name in needed if not hasattr(service, name)]
    if missing:
        raise RuntimeError(
            f"firebase-admin {firebase_admin.__version__} changed its messaging service "
            f"internals (missing {missing}); responders.push.fcm must be adapted"
        )
    if config.endpoint is not None:
        base = f"{config.endpoint.rstrip('/')}/v1/projects/{config.project_id}"
        service._fcm_url = f"{base}/messages:send"
        service._fcm_topic_url = f"{base}/registrations"
    session = google.auth.transport.requests.AuthorizedSession(
        credential,
        # A 401 from FCM is mostly THIRD_PARTY_AUTH_ERROR, which no token refresh can fix;
        # the local token never changes, so there a refresh-and-resend is pure waste.
        max_refresh_attempts=0 if config.endpoint is not None else 1,
        refresh_timeout=config.timeout_s,
    )
    adapter = requests.adapters.HTTPAdapter(
        pool_connections=2, pool_maxsize=_POOL_SIZE, max_retries=0
    )
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    if config.endpoint is not None:
        # A proxy from HTTP(S)_PROXY must never sit between us and the local server, and
        # skipping the per-request scan of the environment and ~/.netrc saves ~15% CPU.
        session.trust_env = False
    client = _http_client.JsonHttpClient(session=session, timeout=config.timeout_s, retries=False)
    old, service._client = service._client, client
    old.close()
    return client


def _delete_app(app: firebase_admin.App) -> None:
    # Deleting the app closes the messaging service's async client with asyncio.run(), which
    # fails inside a running event loop: then do it on a helper thread.
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        firebase_admin.delete_app(app)
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(firebase_admin.delete_app, app).result()
