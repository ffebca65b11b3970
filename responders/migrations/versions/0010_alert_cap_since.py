"""The daily alert cap can start afresh: `responders.alert_cap_since`.

The cap counts a volunteer's alerts of the last day. The demo gives its volunteers a fresh
day at every start by setting this column (alerts before it no longer count) rather than by
deleting or back-dating alerts: the incidents' timelines stay as they happened.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE responders ADD COLUMN alert_cap_since timestamptz")


def downgrade() -> None:
    op.execute("ALTER TABLE responders DROP COLUMN alert_cap_since")
