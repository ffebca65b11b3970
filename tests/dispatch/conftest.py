"""Dispatch fixtures: an app whose timers the tests drive by hand (helpers: tests/helpers.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from responders.api import create_app
from responders.settings import Settings
from routing import Router
from tests.helpers import dispatch_settings


def _overrides(request: pytest.FixtureRequest, name: str) -> Mapping[str, Any]:
    marker = request.node.get_closest_marker(name)
    return marker.kwargs if marker else {}


@pytest_asyncio.fixture(loop_scope="session")
async def app(
    settings: Settings,
    helsinki_router: Router,
    clean_db: AsyncEngine,
    request: pytest.FixtureRequest,
) -> AsyncIterator[FastAPI]:
    configured = settings.model_copy(
        update={
            "api": settings.api.model_copy(update=_overrides(request, "api")),
            "dispatch": dispatch_settings(**_overrides(request, "dispatch")),
        }
    )
    application = create_app(configured, router=helsinki_router)
    async with application.router.lifespan_context(application):
        yield application
