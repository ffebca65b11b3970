"""Fixtures for the FCM emulator's tests: one server per session, reset around each test."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from responders.emulators.fcm import FcmServerThread
from tests.conftest import FCM_PROJECT


@pytest.fixture
def http(fcm_server: FcmServerThread) -> Iterator[httpx.Client]:
    """A raw HTTP client for wire-level checks firebase-admin would hide."""
    with httpx.Client(base_url=fcm_server.url, timeout=5.0) as client:
        yield client


@pytest.fixture
def send_path() -> str:
    return f"/v1/projects/{FCM_PROJECT}/messages:send"
