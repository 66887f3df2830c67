"""`callsla users`: a password asked for with no terminal and nothing on standard input is one
error line, exit 2, not an EOFError traceback (a script or cron job running it)."""

from __future__ import annotations

import getpass
from pathlib import Path

import pytest

from monitor.cli.main import main
from monitor.store import open_store


def test_no_password_to_read_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    db_url = f"sqlite:///{tmp_path}/users.db"
    open_store(db_url).close()

    def no_terminal(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr(getpass, "getpass", no_terminal)
    assert main(["users", "add", "siti", "helpdesk", "--db-url", db_url]) == 2
    err = capsys.readouterr().err
    assert err == ("callsla: no password given: type it at a terminal, or use "
                   "--password-stdin\n")
    with open_store(db_url) as store:
        assert store.accounts() == []
