"""Devices have a channel: FCM (a token) or Web Push (a subscription's endpoint and keys).

Every existing device is an FCM device (`kind` defaults to 'fcm'). A Web Push device has no
FCM token: its endpoint is unique (registering it again finds the same device), and its
`p256dh` and `auth` keys encrypt each message for that browser alone. A CHECK keeps each
kind whole.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE devices
            ADD COLUMN kind text NOT NULL DEFAULT 'fcm'
                CONSTRAINT devices_kind_check CHECK (kind IN ('fcm', 'webpush')),
            ALTER COLUMN fcm_token DROP NOT NULL,
            ADD COLUMN endpoint text CONSTRAINT devices_endpoint_key UNIQUE,
            ADD COLUMN p256dh text,
            ADD COLUMN auth text,
            ADD CONSTRAINT devices_channel_check CHECK (
                kind = 'fcm' AND fcm_token IS NOT NULL
                OR kind = 'webpush' AND endpoint IS NOT NULL AND p256dh IS NOT NULL
                   AND auth IS NOT NULL);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DELETE FROM devices WHERE kind <> 'fcm';
        ALTER TABLE devices
            DROP CONSTRAINT devices_channel_check,
            DROP COLUMN auth,
            DROP COLUMN p256dh,
            DROP COLUMN endpoint,
            ALTER COLUMN fcm_token SET NOT NULL,
            DROP COLUMN kind;
        """
    )
