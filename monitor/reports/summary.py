"""The report's written summary: where the charter's standards were missed, in Malay and English."""

from __future__ import annotations

import pandas as pd

from monitor.charter import Charter
from monitor.reports.indicators import ALL_DEPARTMENTS, CAUSES, QUARTER
from monitor.reports.wording import LABELS, department_name, month_name

Finding = tuple[str, str]  # (Malay, English)


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def _answer_rate(row: pd.Series, charter: Charter) -> Finding | None:
    rate, target = float(row["answer_rate"]), charter.answer_rate_target
    if rate != rate or rate >= target:
        return None
    where = f"{month_name(str(row['month']))}, {department_name(str(row['department']))}"
    secs = f"{charter.answer_within_seconds:g}"
    return (f"{where}: {_pct(rate)} panggilan dijawab dalam {secs} saat (sasaran {_pct(target)}).",
            f"{where}: {_pct(rate)} of calls answered within {secs} s (target {_pct(target)}).")


def _missed(row: pd.Series) -> Finding | None:
    if int(row["missed"]) == 0:
        return None
    cause = max(CAUSES, key=lambda c: int(row[f"missed_{c.value}"]))
    ms_cause, en_cause = LABELS[f"missed_{cause.value}"]
    where = month_name(str(row["month"]))
    n, top = int(row["missed"]), int(row[f"missed_{cause.value}"])
    return (f"{where}: {n} panggilan tidak berjawab; punca utama: {ms_cause.lower()} ({top}).",
            f"{where}: {n} calls missed; main cause: {en_cause.lower()} ({top}).")


def _status(row: pd.Series, charter: Charter) -> Finding | None:
    total, kept = int(row["status_messages"]), int(row["status_kept"])
    if total == kept:
        return None
    where = f"{month_name(str(row['month']))}, {department_name(str(row['department']))}"
    secs = f"{charter.status_interval_seconds:g}"
    return (f"{where}: {total - kept} daripada {total} makluman status lewat melebihi {secs} saat.",
            f"{where}: {total - kept} of {total} status messages came later than {secs} s.")


def _callbacks(row: pd.Series) -> Finding | None:
    late, overdue = int(row["callbacks_late"]), int(row["callbacks_overdue"])
    if late == 0 and overdue == 0:
        return None
    where = f"{month_name(str(row['month']))}, {department_name(str(row['department']))}"
    return (f"{where}: {late} panggilan balik dibuat lewat; {overdue} belum dibuat dan lewat "
            "tempoh.",
            f"{where}: {late} callbacks were made late; {overdue} are still open past their due "
            "time.")


def findings(indicators: pd.DataFrame, charter: Charter) -> list[Finding]:
    """One sentence pair per shortfall: monthly rows per department, causes per month overall."""
    out: list[Finding] = []
    monthly = indicators[indicators["month"] != QUARTER]
    for _, row in monthly.iterrows():
        if row["department"] == ALL_DEPARTMENTS:
            continue
        for finding in (_answer_rate(row, charter), _status(row, charter), _callbacks(row)):
            if finding:
                out.append(finding)
    for _, row in monthly[monthly["department"] == ALL_DEPARTMENTS].iterrows():
        finding = _missed(row)
        if finding:
            out.append(finding)
    if not out:
        out.append(("Semua piawaian piagam dipenuhi dalam tempoh ini.",
                    "Every charter standard was met in this period."))
    return out
