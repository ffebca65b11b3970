"""Building the index: only when the extract changed, OSM's rows replaced whole, a
register's kept; importing a register CSV (checked row by row), replacing OSM's addresses."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import osmium
import pytest
import pytest_asyncio

from responders.cli import main
from responders.db.gateway import Database
from responders.errors import InvalidInput
from responders.geocode import (
    BuildReport,
    build_from_extract,
    import_register,
    remove_register,
    search,
)
from responders.geocode.store import count_entries
from responders.settings import DatabaseSettings, Settings

HEADER = "street,housenumber,postcode,city,lat,lon\n"
# Hämeentie is outside the shipped extract: a register brings it.
HAMEENTIE_1 = (60.17895, 24.95095)


@pytest_asyncio.fixture(loop_scope="session")
async def restored(
    db: Database, settings: Settings, extract_path: Path, geocode_index: BuildReport
) -> AsyncIterator[None]:
    """The session's index as it was after the test: no register, the extract's rows."""
    yield
    await remove_register(db)
    await build_from_extract(db, extract_path, cache_dir=settings.routing.cache_dir)


def _csv(tmp_path: Path, body: str, name: str = "register.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def _extract_with(tmp_path: Path, source: Path, street: str) -> Path:
    """A copy of the extract with one more address node: another file, another digest."""
    target = tmp_path / "changed.osm.pbf"
    with osmium.SimpleWriter(str(target)) as writer:
        for obj in osmium.FileProcessor(str(source)):
            writer.add(obj)
        writer.add_node(
            osmium.osm.mutable.Node(
                id=9_000_000_001,
                location=(24.9452, 60.1731),
                tags={"addr:street": street, "addr:housenumber": "7"},
            )
        )
    return target


async def test_the_index_is_rebuilt_only_when_the_extract_changes(
    db: Database,
    settings: Settings,
    extract_path: Path,
    tmp_path: Path,
    restored: None,
) -> None:
    cache = settings.routing.cache_dir
    assert (await build_from_extract(db, extract_path, cache_dir=cache)).built is False
    # The same bytes under another name: the digest is of the content.
    copy = tmp_path / "copy.osm.pbf"
    await asyncio.to_thread(shutil.copyfile, extract_path, copy)
    assert (await build_from_extract(db, copy, cache_dir=cache)).built is False
    await import_register(db, _csv(tmp_path, "Hämeentie,1,00530,Helsinki,60.17895,24.95095\n"))

    changed = await asyncio.to_thread(_extract_with, tmp_path, extract_path, "Testikuja")
    report = await build_from_extract(db, changed, cache_dir=cache)
    assert report.built is True
    assert report.addresses == 1452 and report.streets > 90 and report.places > 1000
    (hit, *_) = await search(db, "Testikuja 7")
    assert (hit.label, hit.match) == ("Testikuja 7", "exact")
    # The register's rows stayed through the rebuild.
    (kept, *_) = await search(db, "Hameentie 1")
    assert kept.label == "Hämeentie 1, Helsinki"
    assert (await build_from_extract(db, changed, cache_dir=cache)).built is False


async def test_a_register_adds_addresses_found_like_osms(
    db: Database, tmp_path: Path, restored: None
) -> None:
    path = _csv(
        tmp_path,
        "Hämeentie,1,00530,Helsinki,60.17895,24.95095\n"
        "Hämeentie,3 B,00530,Helsinki,60.1792,24.9512\n",
    )
    assert await import_register(db, path) == 2
    (first, *_) = await search(db, "Hameentie 1")  # the query, without the accent
    assert (first.label, first.kind, first.match) == ("Hämeentie 1, Helsinki", "address", "exact")
    assert abs(first.lat - HAMEENTIE_1[0]) < 1e-6 and abs(first.lon - HAMEENTIE_1[1]) < 1e-6
    (unit, *_) = await search(db, "Hämeentie 3b")
    assert (unit.housenumber, unit.match) == ("3 B", "exact")
    # OSM's addresses are still there.
    (osm, *_) = await search(db, "Aleksanterinkatu 52")
    assert (osm.label, osm.match) == ("Aleksanterinkatu 52, Helsinki", "exact")
    # A second import replaces the first register whole.
    assert await import_register(db, _csv(tmp_path, "Hämeentie,5,,,60.1795,24.9515\n")) == 1
    counts = await count_entries(db)
    assert counts[("address", "register")] == 1


async def test_bad_rows_are_named_by_line_and_nothing_is_imported(
    db: Database, tmp_path: Path, restored: None
) -> None:
    before = await count_entries(db)
    path = _csv(
        tmp_path,
        "Hämeentie,1,00530,Helsinki,60.17895,24.95095\n"  # line 2: good
        ",4,00530,Helsinki,60.1,24.9\n"  # line 3: no street
        "Hämeentie,B,00530,Helsinki,60.1,24.9\n"  # line 4: no number
        "Hämeentie,6,00530,Helsinki,north,24.9\n"  # line 5: not a number
        "Hämeentie,8,00530,Helsinki,91,24.9\n",  # line 6: off the globe
    )
    with pytest.raises(InvalidInput) as refused:
        await import_register(db, path)
    message = refused.value.detail
    assert message.startswith("register.csv: 4 bad row(s), nothing was imported: line 3: ")
    for line in (
        "line 3: the street is empty",
        "line 4: the house number 'B' holds no number",
        "line 5: lat and lon must be numbers",
        "line 6: lat must be within ±90",
    ):
        assert line in message
    assert "line 2" not in message
    assert await count_entries(db) == before

    no_header = tmp_path / "plain.csv"
    no_header.write_text("Hämeentie,1,00530,Helsinki,60.17895,24.95095\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="the header line must name the columns"):
        await import_register(db, no_header)


async def test_a_register_may_replace_osms_addresses(
    db: Database, settings: Settings, extract_path: Path, tmp_path: Path, restored: None
) -> None:
    # The register puts Aleksanterinkatu 52 at its own spot, 40 m from OSM's.
    path = _csv(tmp_path, "Aleksanterinkatu,52,00100,Helsinki,60.16900,24.94170\n")
    await import_register(db, path, replace_osm=True)
    counts = await count_entries(db)
    assert ("address", "osm") not in counts
    assert counts[("street", "osm")] > 90 and counts[("place", "osm")] > 1000
    (first, *_) = await search(db, "Aleksanterinkatu 52")
    assert (first.lat, first.lon) == (60.169, 24.9417)
    assert [h.match for h in await search(db, "Annankatu 1")][:1] != ["exact"]
    (place, *_) = await search(db, "Stockmann")  # places stay
    assert place.label == "Stockmann, Aleksanterinkatu 52"
    # A start rebuilds from the extract without its addresses, and only once.
    cache = settings.routing.cache_dir
    report = await build_from_extract(db, extract_path, cache_dir=cache)
    assert report.built and report.addresses == 0 and report.streets > 90
    assert ("address", "osm") not in await count_entries(db)
    assert (await build_from_extract(db, extract_path, cache_dir=cache)).built is False


def test_the_command_line_imports_and_names_bad_lines(
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    restored: None,
) -> None:
    monkeypatch.setenv("EHBO_DB_URL", database_url)
    good = _csv(tmp_path, "Hämeentie,1,00530,Helsinki,60.17895,24.95095\n")
    assert main(["geocode", "import", str(good)]) == 0
    assert capsys.readouterr().out == "imported 1 addresses from register.csv\n"
    bad = _csv(tmp_path, "Hämeentie,x,,,60.1,24.9\n", name="bad.csv")
    assert main(["geocode", "import", "--replace-osm", str(bad)]) == 2
    assert capsys.readouterr().err == (
        "ehbo: bad.csv: 1 bad row(s), nothing was imported: "
        "line 2: the house number 'x' holds no number\n"
    )
    assert main(["geocode", "build"]) == 0
    assert capsys.readouterr().out == "the address index of Helsinki.osm.pbf is up to date\n"

    async def found() -> str:
        database = await Database.open(DatabaseSettings(url=database_url))
        try:
            return (await search(database, "Hameentie 1"))[0].label
        finally:
            await database.close()

    assert asyncio.run(found()) == "Hämeentie 1, Helsinki"


async def test_the_service_start_builds_the_index_unless_told_not_to(
    db: Database,
    settings: Settings,
    extract_path: Path,
    geocode_index: BuildReport,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from responders.runner import _build_geocode
    from responders.settings import GeocodeSettings, RoutingSettings

    caplog.set_level("INFO", logger="responders.geocode")
    await _build_geocode(settings, db)
    assert "the index of Helsinki.osm.pbf is up to date" in caplog.text
    caplog.clear()
    # Off: not even the extract is read (this one does not exist).
    off = settings.model_copy(
        update={
            "geocode": GeocodeSettings(build_on_start=False),
            "routing": RoutingSettings(osm_file=extract_path.with_name("missing.osm.pbf")),
        }
    )
    await _build_geocode(off, db)
    assert "geocode" not in caplog.text
