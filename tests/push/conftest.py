"""Fixtures for the push client's tests: one local FCM emulator per session, reset around each."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from responders.emulators.fcm import FcmServerState, FcmServerThread
from responders.push import FcmConfig, PushClient, PushMessage

PROJECT = "ehbo-test"

MakePush = Callable[..., PushMessage]


@pytest.fixture(scope="session")
def fcm_server() -> Iterator[FcmServerThread]:
    with FcmServerThread() as server:
        yield server


@pytest.fixture
def fcm_state(fcm_server: FcmServerThread) -> Iterator[FcmServerState]:
    """The server's state, clean before and after the test."""
    fcm_server.state.reset()
    yield fcm_server.state
    fcm_server.state.reset()


@pytest.fixture(scope="session")
def push_client(fcm_server: FcmServerThread) -> Iterator[PushClient]:
    client = PushClient(FcmConfig(project_id=PROJECT, endpoint=fcm_server.url, timeout_s=2.0))
    yield client
    client.close()


@pytest.fixture
def make_push() -> MakePush:
    def make(**overrides: Any) -> PushMessage:
        values: dict[str, Any] = {
            "token": "token-a",
            "platform": "android",
            "kind": "alert",
            "alert_id": 11,
            "incident_id": 7,
            "role": "direct",
            "title": "Reanimatie nodig",
            "body": "Kerkstraat 12, 180 m",
            "ttl_s": 300,
        }
        values.update(overrides)
        return PushMessage(**values)

    return make
