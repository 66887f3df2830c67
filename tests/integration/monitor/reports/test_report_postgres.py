"""Export, report and the callback register on the lab's real PostgreSQL (a fresh schema)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd

from lab import Lab
from lab.synthetic_quarter import fill_store, generate_quarter
from monitor.core.charter import load_charter
from monitor.ingest.callback_closing import close_callback
from monitor.reports.callbacks import register
from monitor.reports.export import ExportRequest, export_calls
from monitor.reports.periods import parse_quarter
from monitor.reports.report import report_and_log
from monitor.reports.report_store import ReportStore
from monitor.store import open_store
from tests.integration.monitor.store.test_store_postgres import fresh_schema_url


def test_export_report_and_callbacks_on_postgresql(lab: Lab, tmp_path: Path) -> None:
    charter = load_charter()
    period = parse_quarter("2026Q3", charter.timezone)
    with fresh_schema_url(lab) as url, open_store(url) as store:
        legs = fill_store(store, generate_quarter(period, charter, calls=600, batch_calls=200))
        source = ReportStore(store)
        entry = export_calls(source, charter, ExportRequest(
            period=period, fmt="parquet", out=tmp_path / "q3.parquet", progress=False,
            chunk_size=250))
        back = pd.read_parquet(tmp_path / "q3.parquet")
        assert entry.row_count == len(back) == legs
        assert back["offered_at"].is_monotonic_increasing
        report_and_log(source, charter, period, "xlsx", tmp_path / "q3.xlsx")
        log = source.export_log(period)
        assert [e.kind for e in log] == ["export", "report"]
        assert "Jadual 1" in openpyxl.load_workbook(tmp_path / "q3.xlsx").sheetnames
        open_now = register(store, which="open")
        closed = close_callback(store, open_now[0].callback.callback_id,
                                action_taken="Called back")
        assert closed.action_taken == "Called back"
        assert len(register(store, which="open")) == len(open_now) - 1
