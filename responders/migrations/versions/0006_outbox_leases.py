"""Outbox leases: a claim commits at once and leases its rows instead of holding locks.

- `leased_until`: set while a worker sends the row (the row is due again at that time if the
  worker dies); NULL when nobody holds it. A cancel that finds a leased row knows the push
  may be on its way and stands the volunteer down instead of withdrawing it silently.
- `unconfirmed`: sends FCM did not answer in time (they may have reached the phone); the
  worker caps them to bound duplicate pushes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE outbox ADD COLUMN leased_until timestamptz,
                           ADD COLUMN unconfirmed integer NOT NULL DEFAULT 0;
        """
    )


def downgrade() -> None:
    op.execute("ALTER TABLE outbox DROP COLUMN leased_until, DROP COLUMN unconfirmed;")
