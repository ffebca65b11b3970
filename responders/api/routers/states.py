"""`GET /states`: the incident and alert states and the named sets the screens decide by.

The pages read these instead of keeping lists of their own (`responders.states` is the one
definition); labels and colours for display stay in the pages, keyed by these names.
"""

from __future__ import annotations

from fastapi import APIRouter

from responders import states

__all__ = ["router"]

router = APIRouter(tags=["states"])


@router.get("/states")
async def lifecycle_states() -> dict[str, dict[str, list[str]]]:
    """Every state in lifecycle order, and the sets: open/ended incidents; busy, committed
    (accepted or arrived), answerable and settled alerts."""
    return states.as_json()
