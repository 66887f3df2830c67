"""Exports from a real SQLite store: round trips, PDPA masking, the export log, bad input."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from monitor.core.charter import Charter
from monitor.reports.columns import (
    CALL_COLUMN_NAMES,
    CALL_COLUMNS,
    COLUMN_NAMES,
    columns_markdown,
)
from monitor.reports.errors import ReportError
from monitor.reports.export import ExportRequest, export_calls
from monitor.reports.frames import from_text_times, legs_frame
from monitor.reports.masking import mask_name, mask_number
from monitor.reports.periods import Period, day_range
from monitor.reports.report_store import ReportStore
from monitor.store import open_store
from tests.support.report_data import generated_store

DOCS = Path(__file__).parents[4] / "docs" / "exports.md"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Charter, Period]:
    return generated_store(tmp_path_factory.mktemp("export"))


@pytest.fixture
def source(generated: tuple[str, Charter, Period]) -> Iterator[ReportStore]:
    with open_store(generated[0]) as store:
        yield ReportStore(store)


def _expected(source: ReportStore, charter: Charter, period: Period) -> pd.DataFrame:
    """The records as the store holds them, unmasked, in the export's columns."""
    legs = [leg for chunk in source.legs(period) for leg in chunk]
    callbacks = {cb.call_id: cb.callback_id for cb in source.callbacks(period)}
    return legs_frame(legs, charter, callbacks)


def _request(period: Period, fmt: str, out: Path, **kw: object) -> ExportRequest:
    return ExportRequest(period=period, fmt=fmt, out=out, progress=False,  # type: ignore[arg-type]
                         chunk_size=700, **kw)  # type: ignore[arg-type]


def test_parquet_reads_back_to_the_same_records(source: ReportStore, generated: tuple,
                                                 tmp_path: Path) -> None:
    _, charter, period = generated
    out = tmp_path / "legs.parquet"
    entry = export_calls(source, charter, _request(period, "parquet", out, masked=False,
                                                   reason="round-trip test"))
    back = pd.read_parquet(out)
    expected = _expected(source, charter, period)
    assert entry.row_count == len(expected) > 3000
    assert list(back.columns) == list(COLUMN_NAMES)
    assert str(back["offered_at"].dtype) == "datetime64[us, Asia/Kuala_Lumpur]"
    pd.testing.assert_frame_equal(back, expected, check_dtype=False)


def test_excel_reads_back_to_the_same_records(source: ReportStore, generated: tuple,
                                               tmp_path: Path) -> None:
    _, charter, period = generated
    out = tmp_path / "legs.xlsx"
    export_calls(source, charter, _request(period, "xlsx", out, masked=False, reason="test"))
    raw = pd.read_excel(out, sheet_name="legs", dtype=str, keep_default_na=False)
    back = from_text_times(raw, charter.timezone)
    expected = _expected(source, charter, period)
    assert back["offered_at"].iloc[0].isoformat().endswith("+08:00")
    for column in COLUMN_NAMES:
        if column in ("answer_wait_seconds",):
            got = pd.to_numeric(back[column].replace("", None)).astype("Float64")
            pd.testing.assert_series_equal(got, expected[column], check_names=False,
                                           check_exact=False, rtol=1e-12)
        elif expected[column].dtype == bool:
            assert (back[column] == expected[column].map(str)).all(), column
        elif column.endswith("_at"):
            pd.testing.assert_series_equal(back[column], expected[column], check_names=False)
        else:
            assert back[column].tolist() == expected[column].fillna("").tolist(), column


def test_excel_continues_on_a_new_sheet_past_the_row_limit(tmp_path: Path,
                                                           source: ReportStore,
                                                           generated: tuple) -> None:
    from monitor.reports.writers import ExcelWriter

    _, charter, period = generated
    frame = _expected(source, charter, period).head(25)
    writer = ExcelWriter(tmp_path / "split.xlsx", max_rows=11)
    writer.write(frame)
    writer.close()
    sheets = pd.read_excel(tmp_path / "split.xlsx", sheet_name=None, dtype=str)
    assert list(sheets) == ["legs", "legs_2", "legs_3"]
    assert sum(len(s) for s in sheets.values()) == 25


def test_csv_is_masked_by_default_and_logged(source: ReportStore, generated: tuple,
                                              tmp_path: Path) -> None:
    _, charter, period = generated
    out = tmp_path / "legs.csv"
    entry = export_calls(source, charter, _request(period, "csv", out))
    back = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert entry.masked
    assert entry.reason == ""
    assert back["caller_number"].str.fullmatch(r"\*+\d{4}").all()
    assert not back["caller_name"].str.contains("Siti Aminah").any()
    assert back["offered_at"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+08:00").all()
    logged = source.export_log(period)
    assert any(e.export_id == entry.export_id and e.masked and e.path == str(out.resolve())
               and e.row_count == len(back) for e in logged)


def test_masking_keeps_the_last_four_digits() -> None:
    assert mask_number("60123456789") == "*******6789"
    assert mask_number("123") == "***"
    assert mask_name("Siti Aminah binti Ali") == "S*** A*** b*** A***"


def test_department_filter_and_unknown_department(source: ReportStore, generated: tuple,
                                                  tmp_path: Path) -> None:
    _, charter, period = generated
    out = tmp_path / "kewangan.parquet"
    export_calls(source, charter, _request(period, "parquet", out, department="Kewangan"))
    assert set(pd.read_parquet(out)["department"]) == {"Kewangan"}
    with pytest.raises(ReportError, match="unknown department 'Finance'"):
        export_calls(source, charter, _request(period, "csv", tmp_path / "x.csv",
                                               department="Finance"))
    assert not (tmp_path / "x.csv").exists()


def test_empty_range_and_dates_out_of_order(source: ReportStore, generated: tuple,
                                            tmp_path: Path) -> None:
    _, charter, _ = generated
    empty = day_range(date(2025, 1, 1), date(2025, 1, 31), charter.timezone)
    with pytest.raises(ReportError, match="no calls from 2025-01-01 to 2025-01-31"):
        export_calls(source, charter, _request(empty, "csv", tmp_path / "x.csv"))
    with pytest.raises(ReportError, match="dates out of order"):
        day_range(date(2026, 8, 1), date(2026, 7, 1), charter.timezone)
    assert list(tmp_path.iterdir()) == []


def test_unwritable_path_fails_before_any_work(source: ReportStore, generated: tuple,
                                               tmp_path: Path) -> None:
    _, charter, period = generated
    with pytest.raises(ReportError, match="does not exist"):
        export_calls(source, charter, _request(period, "csv", tmp_path / "no" / "x.csv"))
    with pytest.raises(ReportError, match="it is a folder"):
        export_calls(source, charter, _request(period, "csv", tmp_path))


@pytest.fixture
def tiny_disk(tmpfs: Callable[[str], Path]) -> Path:
    """A 64 KiB tmpfs: a real full disk (needs root to mount)."""
    return tmpfs("64k")


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_full_disk_leaves_no_file(source: ReportStore, generated: tuple, tiny_disk: Path,
                                  fmt: str) -> None:
    _, charter, period = generated
    out = tiny_disk / f"legs.{fmt}"
    with pytest.raises(ReportError, match="disk full"):
        export_calls(source, charter, _request(period, fmt, out))
    assert list(tiny_disk.iterdir()) == []


def test_docs_list_every_column() -> None:
    assert columns_markdown() in DOCS.read_text()
    assert columns_markdown(CALL_COLUMNS) in DOCS.read_text()


def test_per_call_export_rolls_up_every_leg(source: ReportStore, generated: tuple,
                                            tmp_path: Path) -> None:
    _, charter, period = generated
    out = tmp_path / "calls.csv"
    entry = export_calls(source, charter, _request(period, "csv", out, per="call"))
    calls = from_text_times(pd.read_csv(out, dtype=str, keep_default_na=False),
                            charter.timezone)
    legs = _expected(source, charter, period)
    assert entry.kind == "export per call"
    assert list(calls.columns) == list(CALL_COLUMN_NAMES)
    assert entry.row_count == len(calls) == legs["call_id"].nunique() == 3000
    assert calls["call_id"].is_unique
    assert calls["legs"].astype(int).sum() == len(legs)
    first = legs.groupby("call_id")["answered_at"].min()
    arrived = legs.groupby("call_id")["offered_at"].min()
    merged = calls.set_index("call_id")
    pd.testing.assert_series_equal(merged["first_answered_at"].sort_index(),
                                   first.sort_index(), check_names=False,
                                   check_index_type=False)
    pd.testing.assert_series_equal(merged["arrived_at"].sort_index(), arrived.sort_index(),
                                   check_names=False, check_index_type=False)
    waited = (first - arrived).dt.total_seconds()
    within = (waited <= charter.answer_within_seconds).sort_index()
    expected = within.map({True: "true", False: "false"})
    assert (merged["answered_within_standard"].sort_index() == expected).all()


def test_excel_escapes_what_xml_cannot_hold(tmp_path: Path) -> None:
    from monitor.reports.writers import ExcelWriter

    frame = pd.DataFrame({"caller_name": pd.array(["A & B <x>", "bell\x07", "plain"],
                                                  dtype="string")})
    writer = ExcelWriter(tmp_path / "odd.xlsx")
    writer.write(frame)
    writer.close()
    back = pd.read_excel(tmp_path / "odd.xlsx", dtype=str)
    assert back["caller_name"].tolist() == ["A & B <x>", "bell", "plain"]


def test_excel_keeps_leading_and_trailing_spaces(tmp_path: Path) -> None:
    from monitor.reports.writers import ExcelWriter

    frame = pd.DataFrame({"matter": pd.array([" indented", "plain"], dtype="string")})
    writer = ExcelWriter(tmp_path / "spaces.xlsx")
    writer.write(frame)
    writer.close()
    assert pd.read_excel(tmp_path / "spaces.xlsx", dtype=str)["matter"].tolist() == [
        " indented", "plain"]


@pytest.mark.usefixtures("permissive_umask")
@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_export_files_are_owner_only_whatever_the_umask(source: ReportStore, generated: tuple,
                                                         tmp_path: Path, fmt: str) -> None:
    """An export holds caller data (masked or not): readable by the exporting account only."""
    _, charter, period = generated
    out = tmp_path / f"legs.{fmt}"
    export_calls(source, charter, _request(period, fmt, out, department="Kewangan"))
    assert out.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("per", ["leg", "call"])
def test_the_log_entry_is_committed_before_the_file_appears(
        source: ReportStore, generated: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        per: str) -> None:
    """A killed export leaves a log entry, never an unlogged file: at the rename that makes the
    file appear, another connection already sees the entry."""
    from monitor.reports import destination

    url, charter, period = generated
    out = tmp_path / "legs.csv"
    seen_at_rename: list[list[tuple[object, ...]]] = []
    real_replace = os.replace

    def replace(src: str | Path, dst: str | Path) -> None:
        with open_store(url) as other:
            seen_at_rename.append(other.query(
                "SELECT path, row_count FROM export_log WHERE path = ?", (str(out.resolve()),)))
        real_replace(src, dst)

    monkeypatch.setattr(destination.os, "replace", replace)
    entry = export_calls(source, charter, _request(period, "csv", out, department="Kewangan",
                                                   per=per))
    assert seen_at_rename == [[(str(out.resolve()), entry.row_count)]]
    assert entry.seq is not None
    assert entry.entry_hash


def test_an_export_killed_at_the_rename_is_still_logged(
        source: ReportStore, generated: tuple, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from monitor.reports import destination

    _, charter, period = generated
    out = tmp_path / "legs.csv"

    def killed(src: str | Path, dst: str | Path) -> None:
        raise KeyboardInterrupt  # the process dies where the file would appear

    monkeypatch.setattr(destination.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        export_calls(source, charter, _request(period, "csv", out, masked=False,
                                               reason="ticket 7", department="Kewangan"))
    assert list(tmp_path.iterdir()) == []
    logged = [e for e in source.export_log(period) if e.path == str(out.resolve())]
    assert [(e.masked, e.reason) for e in logged] == [(False, "ticket 7")]


def test_exported_by_is_the_process_account_not_logname(
        source: ReportStore, generated: tuple, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import pwd

    _, charter, period = generated
    monkeypatch.setenv("LOGNAME", "mallory")
    entry = export_calls(source, charter, _request(period, "csv", tmp_path / "x.csv",
                                                   department="Kewangan"))
    assert entry.exported_by == pwd.getpwuid(os.getuid()).pw_name != "mallory"
