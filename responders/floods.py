"""Suspected floods of citizen reports: grouped and flagged in the triage queue.

Refusing the reports of a busy area would refuse a genuine one with the fakes; instead the
area's reports of the last minute carry its key, and the console shows them as one group."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

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


# Reports of one area come in at once and each flags the others: rows another report (or
# an operator) holds are skipped, not waited for, so two flags never deadlock; whoever holds
# them flags them with the same key, or is confirming them.
_FLAG = text(
    """
    UPDATE incidents SET flood_group = :group
    WHERE id IN (
        SELECT id FROM incidents
        WHERE source = 'citizen' AND status = 'triage' AND flood_group IS NULL
          AND (id = :id OR (created_at > now() - make_interval(secs => :window)
               AND floor(ST_Y(location::geometry) / :cell) = :row
               AND floor(ST_X(location::geometry) / :cell) = :col))
        FOR UPDATE SKIP LOCKED)
    """
)


async def flag_flood(conn: AsyncConnection, incident_id: int, area: FloodArea) -> None:
    """Mark this report and its area's other reports of the last minute still in triage
    (in `conn`'s transaction)."""
    await conn.execute(
        _FLAG,
        {
            "group": area.key,
            "id": incident_id,
            "window": _WINDOW_S,
            "cell": area.cell_deg,
            "row": area.row,
            "col": area.col,
        },
    )
