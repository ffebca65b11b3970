"""A citizen's report has a status link: its token's digest, and when a dispatcher saw it.

The reporter holds the token (shown once, in the answer to `POST /reports`); only its
SHA-256 digest is stored, unique, so the status page finds its report by one index probe.
`seen_at` is set once, when an operator first opens the report while it is in triage (a
"seen" event in the timeline too): the reporter's page then says a dispatcher is looking.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE incidents ADD COLUMN status_token_hash bytea,
            ADD CONSTRAINT incidents_status_token_hash_key UNIQUE (status_token_hash);
        ALTER TABLE incidents ADD COLUMN seen_at timestamptz;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        ALTER TABLE incidents DROP COLUMN seen_at;
        ALTER TABLE incidents DROP COLUMN status_token_hash;
        """
    )
