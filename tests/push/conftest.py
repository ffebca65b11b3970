"""Fixtures for the push client's tests: one local FCM emulator per session, reset around each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from responders.push import PushMessage

MakePush = Callable[..., PushMessage]


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
