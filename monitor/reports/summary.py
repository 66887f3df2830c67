"""The report's written summary: where the charter's standards were missed, in Malay and English.

Short on purpose: the quarter's figure for each standard, then where it was missed (by
department and month for the answer rate, by department for the rest).
"""

from __future__ import annotations

import pandas as pd

from monitor.core.charter import Charter
from monitor.reports.indicators import ALL_DEPARTMENTS, CAUSES, QUARTER
from monitor.reports.wording import LABELS, MONTHS_EN, MONTHS_MS, department_name

Finding = tuple[str, str]  # (Malay, English)


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def _month(month: str, names: tuple[str, ...]) -> str:
    return names[int(month.split("-")[1]) - 1][:3]


def _answer_rate(frame: pd.DataFrame, charter: Charter) -> list[Finding]:
    target, secs = charter.answer_rate_target, f"{charter.answer_within_seconds:g}"
    total = frame[(frame["month"] == QUARTER) & (frame["department"] == ALL_DEPARTMENTS)].iloc[0]
    out = [(f"Suku tahun: {_pct(total['answer_rate'])} daripada {total['offered']} panggilan "
            f"dijawab dalam {secs} saat (sasaran {_pct(target)}).",
            f"Quarter: {_pct(total['answer_rate'])} of {total['offered']} calls answered "
            f"within {secs} s (target {_pct(target)}).")]
    monthly = frame[(frame["month"] != QUARTER) & (frame["department"] != ALL_DEPARTMENTS)]
    below = monthly[monthly["answer_rate"] < target]
    for department, rows in below.groupby("department", sort=True):
        ms = ", ".join(f"{_month(m, MONTHS_MS)} {_pct(r)}"
                       for m, r in zip(rows["month"], rows["answer_rate"], strict=True))
        en = ", ".join(f"{_month(m, MONTHS_EN)} {_pct(r)}"
                       for m, r in zip(rows["month"], rows["answer_rate"], strict=True))
        name = department_name(str(department))
        out.append((f"{name}: di bawah sasaran pada {ms}.", f"{name}: below target in {en}."))
    return out


def _missed(total: pd.Series) -> Finding | None:
    if int(total["missed"]) == 0:
        return None
    causes = sorted(((int(total[f"missed_{c.value}"]), c) for c in CAUSES), reverse=True)
    listed = [(n, LABELS[f"missed_{c.value}"]) for n, c in causes if n]
    return (f"{total['missed']} panggilan tidak berjawab: "
            + ", ".join(f"{ms.lower()} {n}" for n, (ms, _) in listed) + ".",
            f"{total['missed']} calls missed: "
            + ", ".join(f"{en.lower()} {n}" for n, (_, en) in listed) + ".")


def _worst(frame: pd.DataFrame, shortfall: pd.Series) -> str:
    ranked = sorted(((int(n), str(d)) for d, n in zip(frame["department"], shortfall,
                                                       strict=True) if n > 0), reverse=True)
    return ", ".join(f"{department_name(d)} {n}" for n, d in ranked)


def _status(frame: pd.DataFrame, total: pd.Series, charter: Charter) -> Finding | None:
    late = int(total["status_messages"]) - int(total["status_kept"])
    if late == 0:
        return None
    secs = f"{charter.status_interval_seconds:g}"
    where = _worst(frame, frame["status_messages"] - frame["status_kept"])
    return (f"{late} daripada {total['status_messages']} makluman status lewat melebihi "
            f"{secs} saat ({where}).",
            f"{late} of {total['status_messages']} status messages came later than {secs} s "
            f"({where}).")


def _callbacks(frame: pd.DataFrame, total: pd.Series, charter: Charter) -> Finding | None:
    late, overdue = int(total["callbacks_late"]), int(total["callbacks_overdue"])
    if late == 0 and overdue == 0:
        return None
    hours = f"{charter.callback_due_hours:g}"
    where = _worst(frame, frame["callbacks_late"] + frame["callbacks_overdue"])
    return (f"Daripada {total['callbacks']} panggilan balik, {late} dibuat selepas {hours} jam "
            f"dan {overdue} belum dibuat walaupun lewat tempoh ({where}).",
            f"Of {total['callbacks']} callbacks, {late} were made after {hours} h and "
            f"{overdue} are still open past their due time ({where}).")


def findings(indicators: pd.DataFrame, charter: Charter) -> list[Finding]:
    """The quarter's shortfalls against each standard, or one line saying all were met."""
    quarter = indicators[indicators["month"] == QUARTER]
    departments = quarter[quarter["department"] != ALL_DEPARTMENTS].reset_index(drop=True)
    total = quarter[quarter["department"] == ALL_DEPARTMENTS].iloc[0]
    out = _answer_rate(indicators, charter)
    for finding in (_missed(total), _status(departments, total, charter),
                    _callbacks(departments, total, charter)):
        if finding:
            out.append(finding)
    if len(out) == 1 and total["answer_rate"] >= charter.answer_rate_target:
        out.append(("Semua piawaian piagam dipenuhi dalam tempoh ini.",
                    "Every charter standard was met in this period."))
    return out
