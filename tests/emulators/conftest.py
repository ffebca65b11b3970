"""Fixtures for the FCM emulator's tests: one server per session, reset around each test."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from responders.emulators.fcm import FcmServerState, FcmServerThread
from responders.push import FcmConfig, PushClient

PROJECT = "ehbo-test"


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
    """firebase-admin's real client, for the errors it raises from the emulator's replies."""
    client = PushClient(FcmConfig(project_id=PROJECT, endpoint=fcm_server.url, timeout_s=2.0))
    yield client
    client.close()


@pytest.fixture
def http(fcm_server: FcmServerThread) -> Iterator[httpx.Client]:
    """A raw HTTP client for wire-level checks firebase-admin would hide."""
    with httpx.Client(base_url=fcm_server.url, timeout=5.0) as client:
        yield client


@pytest.fixture
def send_path() -> str:
    return f"/v1/projects/{PROJECT}/messages:send"
