"""Get a migrated database: the configured one, or a database in the embedded cluster."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from responders.db.cluster import Cluster
from responders.db.listen import libpq_dsn
from responders.db.migrate import upgrade
from responders.settings import DatabaseSettings

__all__ = ["Database", "create_database", "drop_database", "prepared_database"]

log = logging.getLogger(__name__)


@dataclass
class Database:
    url: str
    cluster: Cluster | None
    started_cluster: bool


def _server_url(settings: DatabaseSettings) -> tuple[str, Cluster | None, bool]:
    if settings.url:
        return settings.url, None, False
    cluster = Cluster(settings.cluster_dir)
    started = cluster.ensure_running()
    return cluster.url(settings.database_name), cluster, started


def _name(url: str) -> str:
    name = make_url(url).database
    if not name:
        raise ValueError(f"the database URL names no database: {url}")
    return name


def create_database(url: str) -> None:
    """Create the URL's database if missing (needs rights on the server's `postgres` db)."""
    name = _name(url)
    with psycopg.connect(libpq_dsn(url, "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(url: str) -> None:
    name = _name(url)
    with psycopg.connect(libpq_dsn(url, "postgres"), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@contextlib.contextmanager
def prepared_database(settings: DatabaseSettings, *, stop: bool = True) -> Iterator[Database]:
    """A migrated database; an embedded cluster this started is stopped on exit."""
    url, cluster, started = _server_url(settings)
    try:
        if cluster is not None:
            create_database(url)
        upgrade(url)
        yield Database(url=url, cluster=cluster, started_cluster=started)
    finally:
        if cluster is not None and started and stop:
            log.info("stopping the embedded PostgreSQL cluster")
            cluster.stop()
