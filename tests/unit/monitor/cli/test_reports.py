"""`callsla export | report | callbacks` through the `callsla` main: exit codes, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.cli.main import main
from monitor.core.events import CallbackClosed, parse_event
from monitor.core.records import Callback, CallbackStatus
from monitor.store import open_store
from tests.support.report_data import generated_store


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return generated_store(tmp_path_factory.mktemp("cli"), calls=800)[0]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("extra", "message"), [
    (["--from", "2026-08-01", "--to", "2026-07-01"], "dates out of order"),
    (["--from", "2025-01-01", "--to", "2025-01-31"], "no calls from 2025-01-01 to 2025-01-31"),
    (["--from", "2026-07-01", "--to", "2026-07-31", "--department", "Finance"],
     "unknown department 'Finance'"),
    (["--from", "2026-07-01", "--to", "2026-07-31", "--unmasked"], "--unmasked needs --reason"),
    (["--from", "2026-07-01", "--to", "2026-07-31", "--reason", "x"], "only for --unmasked"),
    (["--from", "2026-07-32", "--to", "2026-07-31"], "not a date like 2026-07-01"),
])
def test_export_bad_input(capsys: pytest.CaptureFixture[str], db_url: str, tmp_path: Path,
                          extra: list[str], message: str) -> None:
    code, _, err = _run(capsys, "export", "--db-url", db_url, "--format", "csv",
                        "--out", str(tmp_path / "x.csv"), *extra)
    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith("callsla: ")
    assert message in err
    assert list(tmp_path.iterdir()) == []


def test_export_to_an_unwritable_path(capsys: pytest.CaptureFixture[str], db_url: str) -> None:
    code, _, err = _run(capsys, "export", "--db-url", db_url, "--format", "xlsx", "--from",
                        "2026-07-01", "--to", "2026-07-31", "--out", "/proc/callsla.xlsx")
    assert code == 2
    assert "cannot write /proc/callsla.xlsx" in err


def test_export_and_report(capsys: pytest.CaptureFixture[str], db_url: str,
                           tmp_path: Path) -> None:
    out = tmp_path / "q3.parquet"
    code, stdout, _ = _run(capsys, "export", "--db-url", db_url, "--format", "parquet", "-q",
                           "--from", "2026-07-01", "--to", "2026-09-30", "--out", str(out))
    assert code == 0
    assert "(masked)" in stdout
    assert out.is_file()
    report = tmp_path / "q3.xlsx"
    code, _, err = _run(capsys, "report", "--db-url", db_url, "--quarter", "2026Q3",
                        "--format", "xlsx", "--out", str(report))
    assert (code, err) == (0, "")
    assert report.is_file()
    code, _, err = _run(capsys, "report", "--db-url", db_url, "--quarter", "2026Q9")
    assert code == 2
    assert "not a quarter like 2026Q3" in err


def test_callback_register(capsys: pytest.CaptureFixture[str], db_url: str) -> None:
    code, listing, _ = _run(capsys, "callbacks", "list", "--db-url", db_url, "--status", "all")
    assert code == 0
    assert listing.splitlines()[0].split()[:3] == ["ID", "STATE", "MESSAGE"]
    with open_store(db_url) as store:
        target = store.callbacks(status=CallbackStatus.OPEN)[0]
    code, shown, _ = _run(capsys, "callbacks", "show", target.callback_id, "--db-url", db_url)
    assert code == 0
    assert "(d) Matter / message" in shown
    assert target.caller_number in shown
    code, _, err = _run(capsys, "callbacks", "close", target.callback_id, "--db-url", db_url,
                        "--action", " ")
    assert code == 2
    assert "needs --action TEXT" in err
    code, closed, _ = _run(capsys, "callbacks", "close", target.callback_id, "--db-url", db_url,
                           "--action", "Called back; licence renewed", "--informed",
                           "--done-at", "2026-10-01T10:00+08:00")
    assert code == 0
    assert "Called back; licence renewed" in closed
    with open_store(db_url) as store:
        after = store.get_callback(target.pbx, target.callback_id)
    assert after is not None
    assert after.status is CallbackStatus.CLOSED
    assert after.caller_informed_at == after.done_at
    code, _, err = _run(capsys, "callbacks", "close", target.callback_id, "--db-url", db_url,
                        "--action", "again")
    assert code == 2
    assert "already closed" in err
    code, _, err = _run(capsys, "callbacks", "show", "nope", "--db-url", db_url)
    assert code == 2
    assert "no callback 'nope'" in err


def test_missing_store_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = _run(capsys, "callbacks", "list", "--db-url", f"sqlite:///{tmp_path}/no.db")
    assert code == 2
    assert "no store at" in err


def test_pbx_filter(capsys: pytest.CaptureFixture[str], db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "none.csv"
    code, _, err = _run(capsys, "export", "--db-url", db_url, "--format", "csv", "-q",
                        "--from", "2026-07-01", "--to", "2026-09-30", "--pbx", "elsewhere",
                        "--out", str(out))
    assert code == 2
    assert "no calls from 2026-07-01 to 2026-09-30" in err
    code, _, _ = _run(capsys, "export", "--db-url", db_url, "--format", "csv", "-q",
                      "--from", "2026-07-01", "--to", "2026-09-30", "--pbx", "pbx1",
                      "--out", str(out))
    assert code == 0


def test_closing_records_the_event_and_errors_are_one_line(
        capsys: pytest.CaptureFixture[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CALLSLA_MQTT_URL", raising=False)  # no broker: store only
    db_url = f"sqlite:///{tmp_path}/one.db"
    contacted = datetime(2026, 8, 3, 9, 0, tzinfo=UTC)
    with open_store(db_url) as store:
        store.save_callback(Callback(
            pbx="hq", callback_id="cb-1", call_id="1.1", officer="2101", department="finance",
            caller_name="Aminah", contacted_at=contacted, caller_number="0312345678",
            matter="voicemail msg0000", due_at=contacted + timedelta(days=1)))
    code, _, err = _run(capsys, "callbacks", "close", "cb-9", "--db-url", db_url,
                        "--action", "called back")
    assert (code, err) == (2, "callsla: no callback 'cb-9'\n")
    code, out, err = _run(capsys, "callbacks", "close", "cb-1", "--db-url", db_url,
                          "--action", "called back", "--informed-at", "now")
    assert (code, err) == (0, "")
    assert "called back" in out
    with open_store(db_url) as store:
        closed = store.get_callback("hq", "cb-1")
        (row,) = store.call_events(contacted, contacted + timedelta(days=400),
                                   event_type="callback_closed")
    assert closed is not None
    assert closed.status is CallbackStatus.CLOSED
    assert closed.caller_informed_at is not None
    event = parse_event(row.payload)
    assert isinstance(event, CallbackClosed)
    assert (event.callback_id, event.action_taken, event.done_at) == (
        "cb-1", "called back", closed.done_at)
    code, _, err = _run(capsys, "callbacks", "close", "cb-1", "--db-url", db_url,
                        "--action", "again")
    assert code == 2
    assert err.count("\n") == 1
    assert "already closed" in err


def test_export_log_verify_finds_an_edited_and_a_deleted_entry(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    url = generated_store(tmp_path, calls=100)[0]
    for n in range(3):
        assert _run(capsys, "export", "--db-url", url, "--format", "csv", "-q", "--from",
                    "2026-07-01", "--to", "2026-09-30", "--out", str(tmp_path / f"{n}.csv"))[0] == 0
    code, out, err = _run(capsys, "export-log", "verify", "--db-url", url)
    assert (code, err) == (0, "")
    assert out.startswith("export log intact: 3 chained entries (newest #3 sha256 ")
    with open_store(url) as store:
        store.execute("UPDATE export_log SET row_count = 1 WHERE seq = 2")
    code, out, err = _run(capsys, "export-log", "verify", "--db-url", url)
    assert code == 1
    assert out.startswith("export log BROKEN")
    assert "entry 2 (" in err
    assert "was edited" in err
    with open_store(url) as store:
        store.execute("DELETE FROM export_log WHERE seq = 2")
    code, _, err = _run(capsys, "export-log", "verify", "--db-url", url)
    assert code == 1
    assert "entries 2..2 are missing (deleted)" in err
