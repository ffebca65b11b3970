"""Why an incident ended: `incidents.end_reason` and `incidents.end_note`.

Closing and cancelling take a reason (responders/endings.py) and an optional note; both are
stored on the incident (its detail and the history show them; the stand-down push carries
the reason). Incidents ended before this revision have neither.

A correction of an open incident (`PATCH /incidents/{id}`) tells the volunteers who may be on
the way with a new kind of push: the outbox takes `update`.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


_KINDS_BEFORE = "('alert', 'stand_down', 'no_longer_needed')"
_KINDS = "('alert', 'stand_down', 'no_longer_needed', 'update')"


def _outbox_kinds(kinds: str) -> None:
    op.execute("ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check")
    op.execute(f"ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN {kinds})")


def upgrade() -> None:
    op.execute("ALTER TABLE incidents ADD COLUMN end_reason text, ADD COLUMN end_note text")
    _outbox_kinds(_KINDS)


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE kind = 'update'")
    _outbox_kinds(_KINDS_BEFORE)
    op.execute("ALTER TABLE incidents DROP COLUMN end_reason, DROP COLUMN end_note")
