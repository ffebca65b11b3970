"""Citizen reports: suspected floods are flagged and grouped in triage, never refused.

A report into an area that has had more reports than its limit in the last minute is kept
and marked with the area's key (`flood_group`), as are the area's other reports still in
triage from that minute, so an operator sees them as one group.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE incidents ADD COLUMN flood_group text")


def downgrade() -> None:
    op.execute("ALTER TABLE incidents DROP COLUMN flood_group")
