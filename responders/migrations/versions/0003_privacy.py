"""Privacy: remember which ended incidents were purged of personal data.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE incidents ADD COLUMN purged_at timestamptz;
        CREATE INDEX incidents_unpurged_idx ON incidents (ended_at)
            WHERE purged_at IS NULL AND status IN ('closed', 'cancelled');
        CREATE INDEX live_locations_updated_idx ON live_locations (updated_at);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP INDEX live_locations_updated_idx;
        ALTER TABLE incidents DROP COLUMN purged_at;
        """
    )
