"""The busy rule: `arrived` counts as busy, and it holds under concurrent dispatches.

- A volunteer on scene (`arrived`) is busy like one still on the way: the partial index of
  alerts still in play (`alerts_busy_idx`, 0004) now holds arrivals too, so the busy probe
  of the candidate query (which names the same statuses) can still read it.
- `responders.alert_seq` is a version bumped by every statement that alerts the volunteer.
  A wave reads it with its candidates and writes only to those whose version is unchanged,
  after locking their rows: two waves planned at the same moment can no longer both alert
  one volunteer (`responders/dispatch/waves.py`). Adding a column with a constant default
  rewrites nothing.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        DROP INDEX alerts_busy_idx;
        CREATE INDEX alerts_busy_idx ON alerts (responder_id)
            WHERE status IN ('queued', 'sent', 'delivered', 'accepted', 'arrived');
        ALTER TABLE responders ADD COLUMN alert_seq bigint NOT NULL DEFAULT 0;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        ALTER TABLE responders DROP COLUMN alert_seq;
        DROP INDEX alerts_busy_idx;
        CREATE INDEX alerts_busy_idx ON alerts (responder_id)
            WHERE status IN ('queued', 'sent', 'delivered', 'accepted');
        """
    )
