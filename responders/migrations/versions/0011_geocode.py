"""Offline geocoding: addresses, streets and places of the OSM extract (and of an imported
address register), searched with `pg_trgm` and `unaccent` (`responders.geocode`).

- `geocode_entries`: one row per address, street (its segments merged) or named place; a
  point (an address's centroid, a street's middle, a place's centre) and, for streets, their
  lines (reverse geocoding names the nearest one).
- `geocode_names`: every name a search can reach, normalised by `geocode_norm` (lower case,
  no accents, punctuation as spaces): a place's or street's names, and for addresses the
  street names that lead to them (`street_key`, so "Alexandersgatan 52" finds the address
  tagged "Aleksanterinkatu"). Derived from the entries after every build or import.
- `geocode_sources`: what was built from where (the extract's sha256), so a start rebuilds
  only when the extract changed, and whether an imported register replaces OSM's addresses.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    # unaccent() is only STABLE (its dictionary could change); naming the dictionary makes
    # the result depend on the text alone, so the function may be IMMUTABLE: a constant
    # argument is folded at planning time and the trigram indexes are usable. PL/pgSQL, not
    # SQL: a SQL function that cannot be inlined is parsed and planned again at every call,
    # and a search folds several.
    op.execute(
        """
        CREATE FUNCTION geocode_norm(value text) RETURNS text
        LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
        BEGIN
            RETURN btrim(regexp_replace(
                lower(public.unaccent('public.unaccent'::regdictionary, value)),
                '[^[:alnum:]]+', ' ', 'g'));
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TABLE geocode_entries (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            kind text NOT NULL CHECK (kind IN ('address', 'street', 'place')),
            source text NOT NULL CHECK (source IN ('osm', 'register')),
            label text NOT NULL,
            name text,
            names text[] NOT NULL,
            street text,
            street_key text,
            housenumber text,
            house_key text,
            house_lo integer,
            house_hi integer,
            postcode text,
            city text,
            location geography(Point, 4326) NOT NULL,
            shape geography(Geometry, 4326)
        )
        """
    )
    op.execute(
        "CREATE INDEX geocode_entries_street_idx ON geocode_entries (street_key, house_lo)"
        " WHERE kind = 'address'"
    )
    op.execute(
        "CREATE INDEX geocode_entries_location_idx ON geocode_entries USING gist (location)"
        " WHERE kind = 'address'"
    )
    op.execute(
        "CREATE INDEX geocode_entries_shape_idx ON geocode_entries USING gist (shape)"
        " WHERE kind = 'street'"
    )
    op.execute("CREATE INDEX geocode_entries_source_idx ON geocode_entries (source, kind)")
    op.execute(
        """
        CREATE TABLE geocode_names (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            -- No foreign key: the names are derived from the entries and replaced whole
            -- after every change of them (`geocode.store.refresh_names`).
            entry_id bigint,
            street_key text,
            search text NOT NULL
        )
        """
    )
    # One trigram index per kind of search, each with the predicate its query has: the
    # planner then never prefers a plain scan of the other kind's rows. No pending list
    # (fastupdate): the index is written in bulk by a build, then only read, and a search
    # would otherwise scan the whole unmerged list until autovacuum came (7x slower).
    op.execute(
        "CREATE INDEX geocode_names_entry_search_idx ON geocode_names"
        " USING gin (search gin_trgm_ops) WITH (fastupdate = off) WHERE entry_id IS NOT NULL"
    )
    op.execute(
        "CREATE INDEX geocode_names_street_search_idx ON geocode_names"
        " USING gin (search gin_trgm_ops) WITH (fastupdate = off) WHERE street_key IS NOT NULL"
    )
    op.execute(
        """
        CREATE TABLE geocode_sources (
            source text PRIMARY KEY CHECK (source IN ('osm', 'register')),
            digest text NOT NULL,
            entries integer NOT NULL,
            replaces_osm boolean NOT NULL DEFAULT false,
            built_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE geocode_sources")
    op.execute("DROP TABLE geocode_names")
    op.execute("DROP TABLE geocode_entries")
    op.execute("DROP FUNCTION geocode_norm(text)")
