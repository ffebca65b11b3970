"""Indexes for queries whose cost grew with history.

- Eligibility asks, for every candidate, "is this volunteer still on an open alert?". The
  history index made that cost grow with each past alert; this partial index holds only
  the few alerts still in play.
- The console's list of all or ended incidents, newest first, sorted every incident ever
  reported; it now reads the newest from an index.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE INDEX alerts_busy_idx ON alerts (responder_id)
            WHERE status IN ('queued', 'sent', 'delivered', 'accepted');
        CREATE INDEX incidents_created_idx ON incidents (created_at DESC);
        """
    )


def downgrade() -> None:
    op.execute("DROP INDEX incidents_created_idx; DROP INDEX alerts_busy_idx;")
