"""Dispatch: incidents, alerts, the timeline, the delivery outbox; timers live in rows.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE incidents (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            kind text NOT NULL CHECK (kind IN
                ('cardiac_arrest', 'unconscious', 'breathing', 'bleeding', 'other')),
            location geography(Point, 4326) NOT NULL,
            address text,
            notes text,
            source text NOT NULL CHECK (source IN ('dispatch', 'citizen')),
            status text NOT NULL CHECK (status IN ('triage', 'active', 'closed', 'cancelled')),
            callback_phone text,
            reported_by bigint REFERENCES operators (id) ON DELETE SET NULL,
            wave integer NOT NULL DEFAULT 0,
            radius_m real NOT NULL DEFAULT 0,
            -- The wave timer: a row, not a task in memory, so it survives restarts.
            next_wave_at timestamptz,
            -- Failed pushes count as declines; the dispatch timers wake replacements.
            replacements_due integer NOT NULL DEFAULT 0,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            ended_at timestamptz
        );
        CREATE INDEX incidents_open_idx ON incidents (status, created_at DESC)
            WHERE status IN ('triage', 'active');
        CREATE INDEX incidents_timer_idx ON incidents (next_wave_at)
            WHERE status = 'active' AND next_wave_at IS NOT NULL;
        CREATE INDEX incidents_replacements_idx ON incidents (id)
            WHERE status = 'active' AND replacements_due > 0;

        CREATE TABLE alerts (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            incident_id bigint NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
            -- Erasing a volunteer keeps the anonymous alert for statistics.
            responder_id bigint REFERENCES responders (id) ON DELETE SET NULL,
            wave integer NOT NULL,
            role text NOT NULL CHECK (role IN ('direct', 'via_aed')),
            aed_id bigint REFERENCES aeds (id) ON DELETE SET NULL,
            walk_seconds real NOT NULL,
            straight_m real NOT NULL,
            origin geography(Point, 4326),
            route jsonb,
            status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent',
                'delivered', 'accepted', 'declined', 'expired', 'arrived', 'failed',
                'stood_down')),
            stand_down_reason text,
            fcm_message_id text,
            push_error text,
            expires_at timestamptz NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (incident_id, responder_id)
        );
        CREATE INDEX alerts_responder_idx ON alerts (responder_id, created_at DESC);
        CREATE INDEX alerts_pending_idx ON alerts (expires_at)
            WHERE status IN ('queued', 'sent', 'delivered');

        CREATE TABLE incident_events (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            incident_id bigint NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
            alert_id bigint REFERENCES alerts (id) ON DELETE SET NULL,
            kind text NOT NULL,
            detail jsonb NOT NULL DEFAULT '{}',
            created_at timestamptz NOT NULL DEFAULT clock_timestamp()
        );
        CREATE INDEX incident_events_incident_idx ON incident_events (incident_id, id);

        CREATE TABLE outbox (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            alert_id bigint NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
            kind text NOT NULL CHECK (kind IN ('alert', 'stand_down', 'no_longer_needed')),
            attempts integer NOT NULL DEFAULT 0,
            available_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            last_error text,
            created_at timestamptz NOT NULL DEFAULT clock_timestamp()
        );
        CREATE INDEX outbox_available_idx ON outbox (available_at, id);

        -- Wake workers and live views on commit, without a poll interval.
        CREATE FUNCTION notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_notify('outbox', ''); RETURN NULL; END $$;
        CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
            FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox();

        CREATE FUNCTION notify_incident_event() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_notify('incident_events', NEW.incident_id::text); RETURN NULL; END $$;
        CREATE TRIGGER incident_events_notify AFTER INSERT ON incident_events
            FOR EACH ROW EXECUTE FUNCTION notify_incident_event();
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE outbox, incident_events, alerts, incidents;
        DROP FUNCTION notify_outbox(); DROP FUNCTION notify_incident_event();
        """
    )
