"""The demo's credentials file (`.demo/credentials.json`), as its readers see it."""

from __future__ import annotations

__all__ = ["volunteer_token"]


def volunteer_token(entry: object) -> str | None:
    """A volunteer's token out of an entry of the file's `volunteers`: `{"name", "token"}`,
    or the bare token that earlier versions wrote (a demo restarted on an old file)."""
    if isinstance(entry, dict):
        entry = entry.get("token")
    return entry if isinstance(entry, str) and entry else None
