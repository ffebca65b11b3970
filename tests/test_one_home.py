"""Each concept has one home (issue 13): SQL lives only in the stores (`<domain>/store.py`),
the database gateway (`responders/db/`) and the migrations; every other module calls the
stores' functions and holds no SQL of its own, nor pieces of another module's."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from responders.dispatch import store

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "responders"
# A statement, not a word in a sentence: a keyword followed by what it needs.
_SQL = re.compile(
    r"\bSELECT\b[\s\S]*\bFROM\b|\bINSERT\s+INTO\b|\bUPDATE\s+\w+\s+SET\b|\bDELETE\s+FROM\b"
)


def _may_hold_sql(path: Path) -> bool:
    parts = path.relative_to(PACKAGE).parts
    return path.name == "store.py" or parts[0] in ("db", "migrations")


WITHOUT_SQL = sorted(
    str(path.relative_to(ROOT)) for path in PACKAGE.rglob("*.py") if not _may_hold_sql(path)
)


def _strings(path: Path) -> list[str]:
    return [
        node.value
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


@pytest.mark.parametrize("module", WITHOUT_SQL)
def test_the_module_holds_no_sql(module: str) -> None:
    assert [s for s in _strings(ROOT / module) if _SQL.search(s)] == []


def test_every_module_outside_the_stores_is_checked() -> None:
    assert len(WITHOUT_SQL) > 80
    assert "responders/dispatch/waves.py" in WITHOUT_SQL
    assert "responders/api/routers/incidents.py" in WITHOUT_SQL
    assert "responders/dispatch/store.py" not in WITHOUT_SQL


@pytest.mark.parametrize(
    "home", ["dispatch/store.py", "registry/store.py", "delivery/store.py", "privacy/store.py"]
)
def test_the_check_finds_the_stores_statements(home: str) -> None:
    """The pattern is no blind spot: it finds the statements each store holds."""
    found = [s for s in _strings(PACKAGE / home) if _SQL.search(s)]
    assert len(found) >= 3
    assert _SQL.search(store._WRITE_FIRST_WAVE) and _SQL.search(store._STORE_ROUTE)
