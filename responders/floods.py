"""Suspected floods of citizen reports: grouped and flagged in the triage queue.

Refusing the reports of a busy area would refuse a genuine one with the fakes; instead the
area's reports of the last minute carry its key, and the console shows them as one group."""

from __future__ import annotations

import math
from dataclasses import dataclass

from responders.db.gateway import Conn
from responders.dispatch import store

__all__ = ["FloodArea", "flag_flood"]

# The window the per-area limit counts over: earlier reports of a flooded area from this
# long ago are flagged with the one that went over the limit.
_WINDOW_S = 60


@dataclass(frozen=True, slots=True)
class FloodArea:
    """A grid cell of `cell_deg` degrees, by its south-west corner."""

    row: int
    col: int
    cell_deg: float

    @classmethod
    def of(cls, lat: float, lon: float, cell_deg: float) -> FloodArea:
        return cls(math.floor(lat / cell_deg), math.floor(lon / cell_deg), cell_deg)

    @property
    def key(self) -> str:
        """Readable for operators: "lat,lon" of the cell's south-west corner."""
        return f"{self.row * self.cell_deg:.4f},{self.col * self.cell_deg:.4f}"


async def flag_flood(conn: Conn, incident_id: int, area: FloodArea) -> None:
    """Mark this report and its area's other reports of the last minute still in triage
    (in `conn`'s transaction)."""
    await store.flag_flood_area(
        conn,
        incident_id=incident_id,
        group=area.key,
        cell_deg=area.cell_deg,
        row=area.row,
        col=area.col,
        window_s=_WINDOW_S,
    )
