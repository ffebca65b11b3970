"""For ASGI servers started by name (`uvicorn --factory responders.api.asgi:app_from_env`),
e.g. with several worker processes: settings are read when the factory is called."""

from __future__ import annotations

from fastapi import FastAPI

from responders.api.app import create_app
from responders.settings import Settings

__all__ = ["app_from_env"]


def app_from_env() -> FastAPI:
    return create_app(Settings())
