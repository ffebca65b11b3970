"""AEDs can be retired: kept for history (alerts and timelines name them), never used again.

Dispatch reads only `in_service` AEDs, so a retired one is never offered to a volunteer.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE aeds DROP CONSTRAINT aeds_status_check;
        ALTER TABLE aeds ADD CONSTRAINT aeds_status_check
            CHECK (status IN ('in_service', 'out', 'retired'));
        """
    )


def downgrade() -> None:
    op.execute(
        """
        UPDATE aeds SET status = 'out' WHERE status = 'retired';
        ALTER TABLE aeds DROP CONSTRAINT aeds_status_check;
        ALTER TABLE aeds ADD CONSTRAINT aeds_status_check
            CHECK (status IN ('in_service', 'out'));
        """
    )
