"""The schema's metadata (`responders.db.tables`) and the migrations describe one schema.

A column, index, key or default added on one side only (a model change without its
migration, or a migration without its model) fails here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine, create_engine, text

from responders.db.tables import Base
from tests.helpers import migrated_database

# PostGIS' own table (created with the extension by migration 0001) and Alembic's own
# bookkeeping: neither is ours to describe.
_NOT_OURS = frozenset({"spatial_ref_sys", "alembic_version"})
_SCRATCH = "from_metadata"
_INDEXES = text(
    "SELECT indexname, replace(indexdef, ' ON ' || schemaname || '.', ' ON ') AS indexdef "
    "FROM pg_indexes WHERE schemaname = :schema AND tablename <> ALL(:skip)"
)


@pytest.fixture(scope="module")
def migrated(postgres_server: str) -> Iterator[Engine]:
    """A database of its own, upgraded to head: no other test's tables or rows in it."""
    with migrated_database(postgres_server, "ehbo_schema") as url:
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        yield engine
        engine.dispose()


def _ours(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return not (type_ == "table" and name in _NOT_OURS)


def _describe(differences: list[Any]) -> str:
    return "\n".join(["the metadata and the migrations differ:", *map(repr, differences)])


def test_metadata_and_migrations_have_the_same_tables_columns_keys_and_defaults(
    migrated: Engine,
) -> None:
    with migrated.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "include_object": _ours,
            },
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], _describe(differences)


def _index_definitions(conn: Connection, schema: str) -> dict[str, str]:
    found = conn.execute(_INDEXES, {"schema": schema, "skip": list(_NOT_OURS)})
    return {row.indexname: row.indexdef for row in found}


def test_indexes_have_the_migrations_methods_orders_and_predicates(migrated: Engine) -> None:
    # Alembic compares an index's columns only, not its method (gist), order (DESC) or
    # partial predicate. PostgreSQL itself renders both sides here: the metadata is created
    # in a scratch schema, in a transaction that is rolled back.
    with migrated.connect() as conn, conn.begin() as transaction:
        conn.execute(text(f"CREATE SCHEMA {_SCRATCH}"))
        scratch = conn.execution_options(schema_translate_map={None: _SCRATCH})
        Base.metadata.create_all(scratch)
        from_metadata = _index_definitions(conn, _SCRATCH)
        from_migrations = _index_definitions(conn, "public")
        transaction.rollback()
    assert "alerts_busy_idx" in from_migrations
    assert from_metadata == from_migrations
