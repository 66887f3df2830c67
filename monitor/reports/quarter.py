"""The quarterly report as one value: what every format (HTML, PDF, xlsx) renders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from monitor.core.charter import Charter
from monitor.reports.charts import Chart
from monitor.reports.export_log import ChainHead, ExportLogEntry
from monitor.reports.periods import Period
from monitor.reports.person_figures import PERSON_COLUMNS
from monitor.reports.summary import Finding


@dataclass(frozen=True)
class QuarterReport:
    period: Period
    charter: Charter
    indicators: pd.DataFrame
    findings: list[Finding]
    charts: list[Chart]
    export_log: list[ExportLogEntry]
    generated_at: datetime
    leg_count: int
    pbx: str | None = None  # None: every PBX in the store
    # One row per receptionist or officer and queue or department (`person_figures`).
    persons: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(PERSON_COLUMNS)))
    export_log_head: ChainHead | None = None  # the log's newest entry when the report was made

    def notes(self) -> list[tuple[str, str]]:
        """Statements every report must carry (charter version, short-abandon rule, retention,
        the export log's head)."""
        c = self.charter
        where = (f"PBX {self.pbx}", f"PBX {self.pbx}") if self.pbx else (
            "Semua PBX dalam stor", "Every PBX in the store")
        out = [where, (f"Versi piagam {c.version} (berkuat kuasa {c.effective_from}).",
                f"Charter version {c.version} (in force from {c.effective_from}).")]
        if c.short_abandon_seconds > 0:
            secs = f"{c.short_abandon_seconds:g}"
            out.append((f"Panggilan yang ditinggalkan dalam {secs} saat tidak dikira.",
                        f"Calls abandoned within {secs} s are not counted as offered."))
        else:
            out.append(("Semua panggilan yang ditinggalkan dikira.",
                        "Every abandoned call is counted as offered."))
        if c.retention_days is not None:
            out.append((f"Rekod panggilan disimpan {c.retention_days} hari, kemudian dihapuskan"
                        " (PDPA 2010).",
                        f"Call records are kept {c.retention_days} days, then purged"
                        " (PDPA 2010)."))
        else:
            out.append(("Piagam tidak menetapkan tempoh simpanan rekod panggilan.",
                        "The charter sets no retention period for call records."))
        if self.export_log_head is not None:  # kept with the report: a later truncation shows
            head = self.export_log_head
            out.append((f"Log eksport: entri terakhir #{head.seq}, SHA-256 {head.entry_hash}.",
                        f"Export log: newest entry #{head.seq}, SHA-256 {head.entry_hash}."))
        return out
