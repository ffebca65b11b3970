"""Registries: operators, responders and their credentials, places, devices, AEDs.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

QUALIFICATIONS = "('cpr_aed', 'first_aid', 'bhv', 'nurse', 'physician', 'paramedic')"


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute(
        """
        CREATE TABLE operators (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
            role text NOT NULL CHECK (role IN ('operator', 'coordinator')),
            token_hash bytea NOT NULL UNIQUE,
            created_at timestamptz NOT NULL DEFAULT now(),
            revoked_at timestamptz
        );
        CREATE TABLE responders (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name text NOT NULL,
            phone text NOT NULL,
            email text NOT NULL,
            status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused')),
            paused_until timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE UNIQUE INDEX responders_email_key ON responders (lower(email));
        CREATE TABLE responder_tokens (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            responder_id bigint NOT NULL REFERENCES responders (id) ON DELETE CASCADE,
            token_hash bytea NOT NULL UNIQUE,
            created_at timestamptz NOT NULL DEFAULT now(),
            revoked_at timestamptz
        );
        CREATE INDEX responder_tokens_responder_idx ON responder_tokens (responder_id);
        """
    )
    op.execute(
        f"""
        CREATE TABLE qualifications (
            responder_id bigint NOT NULL REFERENCES responders (id) ON DELETE CASCADE,
            kind text NOT NULL CHECK (kind IN {QUALIFICATIONS}),
            expires_on date NOT NULL,
            PRIMARY KEY (responder_id, kind)
        );
        CREATE TABLE places (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            responder_id bigint NOT NULL REFERENCES responders (id) ON DELETE CASCADE,
            kind text NOT NULL CHECK (kind IN ('home', 'work', 'other')),
            label text,
            location geography(Point, 4326) NOT NULL,
            windows jsonb NOT NULL DEFAULT '[]',
            available int4multirange NOT NULL DEFAULT '{{}}'
        );
        CREATE INDEX places_location_idx ON places USING gist (location);
        CREATE INDEX places_responder_idx ON places (responder_id);
        CREATE TABLE live_locations (
            responder_id bigint PRIMARY KEY REFERENCES responders (id) ON DELETE CASCADE,
            location geography(Point, 4326) NOT NULL,
            accuracy_m real NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX live_locations_location_idx ON live_locations USING gist (location);
        CREATE TABLE devices (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            responder_id bigint NOT NULL REFERENCES responders (id) ON DELETE CASCADE,
            fcm_token text NOT NULL UNIQUE,
            platform text NOT NULL CHECK (platform IN ('android', 'ios', 'web')),
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX devices_responder_idx ON devices (responder_id);
        CREATE TABLE aeds (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            location geography(Point, 4326) NOT NULL,
            address text,
            description text,
            access text NOT NULL CHECK (access IN ('public', 'restricted')),
            opening_hours jsonb NOT NULL DEFAULT '[]',
            open_minutes int4multirange NOT NULL DEFAULT '{{}}',
            cabinet_code text,
            status text NOT NULL DEFAULT 'in_service' CHECK (status IN ('in_service', 'out')),
            external_ref text UNIQUE,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX aeds_location_idx ON aeds USING gist (location);
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP TABLE aeds, devices, live_locations, places, qualifications, "
        "responder_tokens, responders, operators"
    )
