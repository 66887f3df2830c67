"""`callsla purge`: a dry run unless --yes, the charter's retention by default, progress logged,
the outbox's stale events too."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.cli.main import main
from monitor.core.records import CallLeg, LegKind
from monitor.store import open_store

NOW = datetime.now(UTC)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'calls.db'}"
    with open_store(url) as store:
        store.save_legs(
            CallLeg(pbx="pbx1", call_id=f"c{n}", leg_id=f"l{n}", kind=LegKind.FRONT_DESK,
                    offered_at=NOW - timedelta(days=days), caller_number="0123456789")
            for n, days in enumerate([800, 800, 750, 731, 729, 10]))
    return url


def _outbox(folder: Path) -> tuple[Path, Path]:
    folder.mkdir()
    old = folder / f"{time.time_ns() - 800 * 86400 * 10**9:020d}-e1.json"
    new = folder / f"{time.time_ns():020d}-e2.json"
    old.write_text("{}")
    new.write_text("{}")
    return old, new


def test_a_dry_run_counts_and_deletes_nothing(capsys: pytest.CaptureFixture[str], db_url: str,
                                              tmp_path: Path) -> None:
    old, new = _outbox(tmp_path / "outbox")
    code = main(["purge", "--db-url", db_url, "--outbox", str(tmp_path / "outbox")])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("dry run: records older than 730 days")
    assert ("call_legs 4, call_events 0, status_announcements 0, callbacks 0, ring_backs 0,"
            " outbox files 1") in out
    assert "--yes" in out
    with open_store(db_url) as store:
        assert store.count_legs() == 6
    assert old.exists()
    assert new.exists()


def test_yes_deletes_in_logged_batches(capsys: pytest.CaptureFixture[str],
                                       caplog: pytest.LogCaptureFixture, db_url: str,
                                       tmp_path: Path) -> None:
    old, new = _outbox(tmp_path / "outbox")
    with caplog.at_level(logging.INFO, logger="callsla.purge"):
        code = main(["purge", "--db-url", db_url, "--yes", "--batch-rows", "2",
                     "--outbox", str(tmp_path / "outbox")])
    assert code == 0
    assert "call_legs 4" in capsys.readouterr().out
    progress = [r.getMessage() for r in caplog.records if "purge call_legs" in r.getMessage()]
    assert progress == ["purge call_legs: 2 of 4 deleted", "purge call_legs: 4 of 4 deleted"]
    with open_store(db_url) as store:
        assert store.count_legs() == 2
    assert not old.exists()
    assert new.exists()


def test_older_than_overrides_the_charter(capsys: pytest.CaptureFixture[str],
                                          db_url: str) -> None:
    assert main(["purge", "--db-url", db_url, "--older-than", "30", "--yes"]) == 0
    assert "older than 30 days" in capsys.readouterr().out
    with open_store(db_url) as store:
        assert store.count_legs() == 1


def test_no_retention_anywhere_is_one_line(capsys: pytest.CaptureFixture[str], db_url: str,
                                           tmp_path: Path) -> None:
    from importlib import resources

    charter = tmp_path / "charter.toml"
    charter.write_text(resources.files("monitor.core").joinpath("charter.toml")
                       .read_text("utf-8").split("[retention]")[0])
    assert main(["purge", "--db-url", db_url, "--charter", str(charter)]) == 2
    assert "give --older-than DAYS" in capsys.readouterr().err
