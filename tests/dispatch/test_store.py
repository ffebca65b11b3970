"""Dispatch's SQL has one home (issue 13): the modules that used to splice statements
together now call `dispatch/store.py` and hold no SQL of their own."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from responders.dispatch import store

ROOT = Path(__file__).resolve().parents[2]
# A statement, not a word in a sentence: a keyword followed by what it needs.
_SQL = re.compile(
    r"\bSELECT\b[\s\S]*\bFROM\b|\bINSERT\s+INTO\b|\bUPDATE\s+\w+\s+SET\b|\bDELETE\s+FROM\b"
)
WITHOUT_SQL = (
    "responders/dispatch/waves.py",
    "responders/dispatch/candidates.py",
    "responders/dispatch/views.py",
    "responders/dispatch/lifecycle.py",
    "responders/routes.py",
    "responders/coverage.py",
    "responders/api/routers/incidents.py",
    "responders/api/routers/alerts.py",
    "responders/api/routers/reports.py",
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


def test_the_check_finds_the_stores_statements() -> None:
    """The pattern is no blind spot: it finds every statement the store holds."""
    found = [s for s in _strings(ROOT / "responders/dispatch/store.py") if _SQL.search(s)]
    assert len(found) >= 15
    assert _SQL.search(store._WRITE_FIRST_WAVE) and _SQL.search(store._STORE_ROUTE)
