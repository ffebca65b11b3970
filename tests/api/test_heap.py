"""A served app leaves what start-up loaded out of garbage collections (`responders.heap`)."""

from __future__ import annotations

import gc

from responders.api import create_app
from responders.settings import Settings
from routing import Router


async def test_start_up_freezes_the_long_lived_heap(
    settings: Settings,
    helsinki_router: Router,
) -> None:
    api = settings.api.model_copy(update={"freeze_heap": True})
    serving = settings.model_copy(update={"api": api})
    app = create_app(serving, router=helsinki_router)
    try:
        assert gc.get_freeze_count() == 0
        async with app.router.lifespan_context(app):
            # The walking graph and every module loaded so far are out of collections.
            assert gc.get_freeze_count() > 100_000
    finally:
        gc.unfreeze()
    assert gc.get_freeze_count() == 0
