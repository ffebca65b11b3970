"""Dispatch and console: less work per wave, and queries whose cost grew with history.

- Eligibility asks, for every candidate, "is this volunteer still on an open alert?". The
  history index made that cost grow with each past alert; this partial index holds only
  the few alerts still in play.
- The console's list of all or ended incidents, newest first, sorted every incident ever
  reported; it now reads the newest from an index.
- A wave writes 31 timeline events in one statement; the live-view notification is now
  sent once per statement and incident instead of once per row.

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

        CREATE FUNCTION notify_incident_events() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('incident_events', incident_id::text)
            FROM (SELECT DISTINCT incident_id FROM added) AS touched;
            RETURN NULL;
        END $$;
        DROP TRIGGER incident_events_notify ON incident_events;
        CREATE TRIGGER incident_events_notify AFTER INSERT ON incident_events
            REFERENCING NEW TABLE AS added
            FOR EACH STATEMENT EXECUTE FUNCTION notify_incident_events();
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TRIGGER incident_events_notify ON incident_events;
        CREATE TRIGGER incident_events_notify AFTER INSERT ON incident_events
            FOR EACH ROW EXECUTE FUNCTION notify_incident_event();
        DROP FUNCTION notify_incident_events();
        DROP INDEX incidents_created_idx;
        DROP INDEX alerts_busy_idx;
        """
    )
