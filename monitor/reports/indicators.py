"""Jadual 1 indicators per month and department, judged leg by leg with the shared definitions.

Counts come from `monitor.core.definitions` (the functions behind /metrics): `answer_rate` is
additive, so it is applied to each chunk's legs of one (month, department) and summed.
Rows are (month, department); `ALL_DEPARTMENTS` rows add the departments up and the
`QUARTER` month adds the months up. The front desk is the department "" (shown by name in
reports): its queue legs carry no department.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import pandas as pd

from monitor.core.charter import Charter
from monitor.core.definitions import answer_rate, is_short_abandon, missed_cause
from monitor.core.records import (
    Callback,
    CallLeg,
    LegKind,
    MissedCause,
    Outcome,
    StatusAnnouncement,
)
from monitor.reports.status_compliance import interval_kept

ALL_DEPARTMENTS = "*"
QUARTER = "quarter"
CAUSES = tuple(MissedCause)


@dataclass
class _Tally:
    offered: int = 0
    answered: int = 0
    within: int = 0
    missed: dict[MissedCause, int] = field(default_factory=lambda: dict.fromkeys(CAUSES, 0))
    waits: list[float] = field(default_factory=list)
    transfers: int = 0
    returned: int = 0
    voicemails: int = 0
    status_messages: int = 0
    status_kept: int = 0
    callbacks: int = 0
    callbacks_on_time: int = 0
    callbacks_late: int = 0
    callbacks_overdue: int = 0
    callbacks_open: int = 0

    def add(self, other: _Tally) -> None:
        for name, value in vars(other).items():
            if name == "missed":
                for cause, count in value.items():
                    self.missed[cause] += count
            elif name == "waits":
                self.waits.extend(value)
            else:
                setattr(self, name, getattr(self, name) + value)


class IndicatorTally:
    """Feed legs, status messages and callbacks of one period; read `frame()` at the end."""

    def __init__(self, charter: Charter) -> None:
        self._charter = charter
        self._tallies: dict[tuple[str, str], _Tally] = defaultdict(_Tally)

    def _tally(self, at: datetime, department: str) -> _Tally:
        local = at.astimezone(self._charter.timezone)
        return self._tallies[(f"{local.year:04d}-{local.month:02d}", department)]

    def add_legs(self, legs: Iterable[CallLeg]) -> None:
        """One chunk of legs (any order)."""
        charter = self._charter
        groups: dict[int, tuple[_Tally, list[CallLeg]]] = {}
        for leg in legs:
            tally = self._tally(leg.offered_at, leg.department)
            groups.setdefault(id(tally), (tally, []))[1].append(leg)
            if leg.answered_at is not None:
                tally.waits.append(leg.answer_wait_seconds or 0.0)
            cause = missed_cause(leg)
            if cause is not None and not is_short_abandon(leg, charter.short_abandon_seconds):
                tally.missed[cause] += 1
            if leg.kind is LegKind.TRANSFER:
                tally.transfers += 1
                tally.returned += leg.outcome is Outcome.RETURNED
            tally.voicemails += leg.voicemail
        for tally, group in groups.values():
            rate = answer_rate(group, within_seconds=charter.answer_within_seconds,
                               short_abandon_seconds=charter.short_abandon_seconds)
            tally.offered += rate.offered
            tally.answered += rate.answered
            tally.within += rate.answered_within

    def add_status_announcement(self, announcement: StatusAnnouncement) -> None:
        """Each message after a caller's first has an interval to judge; the first has none."""
        if announcement.interval_seconds is None:
            return
        tally = self._tally(announcement.announced_at, announcement.department)
        tally.status_messages += 1
        tally.status_kept += interval_kept(announcement.interval_seconds,
                                           self._charter.status_interval_seconds)

    def add_callback(self, callback: Callback, *, as_of: datetime) -> None:
        tally = self._tally(callback.contacted_at, callback.department)
        tally.callbacks += 1
        if callback.done_at is not None:
            on_time = callback.done_at <= callback.due_at
            tally.callbacks_on_time += on_time
            tally.callbacks_late += not on_time
        else:
            tally.callbacks_open += 1
            tally.callbacks_overdue += callback.due_at < as_of

    def frame(self, months: list[date]) -> pd.DataFrame:
        """Every month of the period x every department seen, plus totals; zeros where idle."""
        departments = sorted({dept for _, dept in self._tallies})
        keys = [(f"{m.year:04d}-{m.month:02d}", d) for m in months for d in departments]
        rows: list[dict[str, object]] = []
        for month in [*(k for k in dict.fromkeys(k[0] for k in keys)), QUARTER]:
            total = _Tally()
            for dept in departments:
                tally = _Tally()
                for key, found in self._tallies.items():
                    if key[1] == dept and (month == QUARTER or key[0] == month):
                        tally.add(found)
                rows.append(_row(month, dept, tally))
                total.add(tally)
            rows.append(_row(month, ALL_DEPARTMENTS, total))
        return pd.DataFrame(rows)


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else float("nan")


def _row(month: str, department: str, t: _Tally) -> dict[str, object]:
    waits = np.asarray(t.waits, dtype=float)
    row: dict[str, object] = {
        "month": month, "department": department,
        "offered": t.offered, "answered": t.answered, "answered_within_standard": t.within,
        "answer_rate": _ratio(t.within, t.offered),
        "missed": sum(t.missed.values()),
    }
    row.update({f"missed_{cause.value}": t.missed[cause] for cause in CAUSES})
    row.update({
        "mean_wait_seconds": float(waits.mean()) if waits.size else float("nan"),
        "p90_wait_seconds": float(np.percentile(waits, 90)) if waits.size else float("nan"),
        "max_wait_seconds": float(waits.max()) if waits.size else float("nan"),
        "status_messages": t.status_messages, "status_kept": t.status_kept,
        "status_rate": _ratio(t.status_kept, t.status_messages),
        "transfers": t.transfers, "transfers_returned": t.returned,
        "voicemails": t.voicemails, "callbacks": t.callbacks,
        "callbacks_on_time": t.callbacks_on_time, "callbacks_late": t.callbacks_late,
        "callbacks_open": t.callbacks_open, "callbacks_overdue": t.callbacks_overdue,
        "callback_rate": _ratio(t.callbacks_on_time, t.callbacks),
    })
    return row
