"""Devices remember the volunteer credential (app sign-in) that registered them.

A device (FCM token) used to move to whoever named its token; now it moves only once the
app that registered it has let go of it: signing out of that app, or erasing the volunteer,
removes it (see `registry.responders`). Devices registered before this revision are given
their volunteer's credential where there is exactly one valid one to give; the others keep
none and may move only when their volunteer holds no valid credential at all.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE devices ADD COLUMN token_id bigint
            REFERENCES responder_tokens (id) ON DELETE CASCADE;
        CREATE INDEX devices_token_idx ON devices (token_id);
        UPDATE devices d SET token_id = t.id
        FROM (
            SELECT responder_id, min(id) AS id FROM responder_tokens
            WHERE revoked_at IS NULL GROUP BY responder_id HAVING count(*) = 1
        ) t
        WHERE t.responder_id = d.responder_id;
        """
    )


def downgrade() -> None:
    op.execute("ALTER TABLE devices DROP COLUMN token_id")
