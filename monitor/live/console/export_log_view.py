"""What the auditor's page and the API show of the export log: its newest entries and whether
the whole hash chain is intact."""

from __future__ import annotations

from monitor.reports.export_log import ChainCheck, ExportLogEntry, verify_chain
from monitor.store import Store

LOG_SHOWN = 50  # the newest entries; `callsla export-log verify` checks them all


def export_log_view(store: Store) -> tuple[list[ExportLogEntry], ChainCheck]:
    """The newest entries first, and the whole chain's check (the log is small: one row a
    download)."""
    from monitor.reports.report_store import ReportStore  # pandas: not at the monitor's start

    entries = ReportStore(store).whole_export_log()
    newest = sorted(entries, key=lambda e: (e.seq or 0, e.exported_at), reverse=True)
    return newest[:LOG_SHOWN], verify_chain(entries)
