"""`ehbo operators …`: the command line creates, lists and revokes operators on the gateway."""

from __future__ import annotations

import pytest

from responders.cli import main


def test_operators_are_created_listed_and_revoked_once(
    database_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EHBO_DB_URL", database_url)
    assert main(["operators", "create", "--name", "CLI Ann", "--role", "coordinator"]) == 0
    created = capsys.readouterr().out.splitlines()
    operator_id = int(created[0].split()[1])
    assert created[0] == f"operator {operator_id} (coordinator) CLI Ann"
    assert created[1].startswith("token: ehbo_op_")

    assert main(["operators", "list"]) == 0
    assert f"{operator_id}\tcoordinator\tactive\tCLI Ann" in capsys.readouterr().out.splitlines()

    assert main(["operators", "revoke", str(operator_id)]) == 0
    assert capsys.readouterr().out == f"operator {operator_id} revoked\n"
    assert main(["operators", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert any(line.startswith(f"{operator_id}\tcoordinator\trevoked ") for line in listed)

    # Revoked once is revoked: a second time names the mistake (exit 2).
    assert main(["operators", "revoke", str(operator_id)]) == 2
    assert capsys.readouterr().err == "ehbo: no such active operator\n"
