"""The quarterly report as one value: what every format (HTML, PDF, xlsx) renders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from monitor.core.charter import Charter
from monitor.reports.charts import Chart
from monitor.reports.periods import Period
from monitor.reports.person_figures import PERSON_COLUMNS
from monitor.reports.report_store import ExportLogEntry
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

    def notes(self) -> list[tuple[str, str]]:
        """Statements every report must carry (charter version, short-abandon rule)."""
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
        return out
