"""The geocoding index of the Helsinki extract, built once per session in the tests'
database (`clean_db` keeps its tables), and the extract's addressed objects."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_asyncio

from responders.db.gateway import Database
from responders.geo import default_extract
from responders.geocode import BuildReport, build_from_extract
from responders.geocode._osm import Extract, read_extract
from responders.settings import Settings


@pytest.fixture(scope="session")
def extract_path() -> Path:
    return default_extract()


@pytest.fixture(scope="session")
def helsinki_extract(extract_path: Path) -> Extract:
    return read_extract(extract_path)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def geocode_index(db: Database, settings: Settings, extract_path: Path) -> BuildReport:
    """The index, built (or found up to date) once for the session."""
    return await build_from_extract(db, extract_path, cache_dir=settings.routing.cache_dir)
