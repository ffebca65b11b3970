"""Alembic environment: the URL comes from the caller (`responders.db.migrate`) or settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from responders.db.tables import Base
from responders.settings import DatabaseSettings

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url") or DatabaseSettings().url
    if not url:
        raise SystemExit("no database URL: set DATABASE_URL or EHBO_DB_URL")
    return url


def run_migrations_online() -> None:
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
