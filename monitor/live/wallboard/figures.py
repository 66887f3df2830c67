"""The wallboard's figures, computed from counter readings with the charter's definitions.

Same definitions as the Grafana wallboard and the recording rules: the 10-second answer rate
is answered within 10 s (the histogram's 10 s bucket) divided by offered legs; no offered leg
means no figure (None), not 0 %.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from monitor.core.charter import Charter
from monitor.core.metrics import STATUS_TOLERANCE_SECONDS
from monitor.live.wallboard.snapshots import KeepSample, LabelSet, Snapshot

FRONT_DESK = ""  # front-desk legs carry no department label

OFFERED = "callsla_calls_offered_total"
MISSED = "callsla_calls_missed_total"
RETURNED = "callsla_transfers_returned_total"
WAIT_BUCKET = "callsla_answer_wait_seconds_bucket"
STATUS_BUCKET = "callsla_status_announcement_interval_seconds_bucket"
STATUS_COUNT = "callsla_status_announcement_interval_seconds_count"
# What the windows subtract: all a reading kept in the history needs (snapshots.py).
WINDOW_SAMPLES = frozenset({OFFERED, MISSED, RETURNED, WAIT_BUCKET, STATUS_BUCKET, STATUS_COUNT})


def bucket_label(seconds: float) -> str:
    """prometheus_client writes bucket bounds as Go floats: 10 -> "10.0"."""
    return repr(float(seconds))


def window_samples(charter: Charter) -> KeepSample:
    """The samples `compute_figures` subtracts from a window's start: `WINDOW_SAMPLES`, and of
    the two histograms only the charter's bucket."""
    bucket = {WAIT_BUCKET: bucket_label(charter.answer_within_seconds),
              STATUS_BUCKET: bucket_label(charter.status_interval_seconds
                                          + STATUS_TOLERANCE_SECONDS)}

    def keep(name: str, labels: LabelSet) -> bool:
        if name in bucket:
            return ("le", bucket[name]) in labels
        return name in WINDOW_SAMPLES

    return keep


def ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


@dataclass(frozen=True)
class DepartmentRow:
    department: str  # "" is the front desk
    offered: float
    answer_rate: float | None
    missed: float
    returned: float
    callbacks_overdue: float
    status_on_time: float | None  # today; the front desk's are its queue callers' messages


@dataclass(frozen=True)
class WallboardFigures:
    as_of: str  # ISO time of the counter reading
    window_from: str  # start of the "15 min" window (the monitor's start if it is younger)
    day_from: str  # start of "today": local midnight, or the monitor's start if later
    monitor_started: str  # the first reading: no window reaches back before it
    charter_version: str
    answer_target: float
    answer_rate_15m: float | None
    answer_rate_today: float | None
    offered_today: float
    missed_today: dict[str, float]
    callers_waiting: float
    longest_wait_seconds: float
    returned_today: float
    callbacks_open: float
    callbacks_overdue: float
    status_on_time_15m: float | None
    departments: list[DepartmentRow]

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _delta(now: dict[str, float], then: dict[str, float]) -> dict[str, float]:
    return {key: value - then.get(key, 0.0) for key, value in now.items()}


def compute_figures(*, now: Snapshot, window_start: Snapshot, day_start: Snapshot,
                    charter: Charter, monitor_started: Snapshot | None = None) -> WallboardFigures:
    within = bucket_label(charter.answer_within_seconds)
    on_time = bucket_label(charter.status_interval_seconds + STATUS_TOLERANCE_SECONDS)

    def change(name: str, start: Snapshot, **where: str) -> float:
        return now.total(name, **where) - start.total(name, **where)

    def change_by(name: str, label: str, start: Snapshot, **where: str) -> dict[str, float]:
        return _delta(now.total_by(name, label, **where), start.total_by(name, label, **where))

    offered = change_by(OFFERED, "department", day_start)
    answered_in_time = change_by(WAIT_BUCKET, "department", day_start, le=within)
    missed = change_by(MISSED, "department", day_start)
    returned = change_by(RETURNED, "department", day_start)
    overdue = now.total_by("callsla_callbacks_overdue", "department")
    # Queue callers' messages carry department "" (the front desk's row), as their legs do.
    status_kept = change_by(STATUS_BUCKET, "department", day_start, le=on_time)
    status_heard = change_by(STATUS_COUNT, "department", day_start)
    departments = [
        DepartmentRow(department=name, offered=offered.get(name, 0.0),
                      answer_rate=ratio(answered_in_time.get(name, 0.0), offered.get(name, 0.0)),
                      missed=missed.get(name, 0.0), returned=returned.get(name, 0.0),
                      callbacks_overdue=overdue.get(name, 0.0),
                      status_on_time=ratio(status_kept.get(name, 0.0),
                                           status_heard.get(name, 0.0)))
        for name in sorted(set(offered) | set(missed) | set(returned) | set(overdue)
                           | {n for n, count in status_heard.items() if count > 0})
    ]
    longest = [value for _labels, value in now.select("callsla_longest_wait_seconds")]
    return WallboardFigures(
        as_of=now.taken_at.isoformat(timespec="milliseconds"),
        window_from=window_start.taken_at.isoformat(timespec="milliseconds"),
        day_from=day_start.taken_at.isoformat(timespec="milliseconds"),
        monitor_started=(monitor_started or window_start).taken_at.isoformat(
            timespec="milliseconds"),
        charter_version=charter.version,
        answer_target=charter.answer_rate_target,
        answer_rate_15m=ratio(change(WAIT_BUCKET, window_start, le=within),
                              change(OFFERED, window_start)),
        answer_rate_today=ratio(change(WAIT_BUCKET, day_start, le=within),
                                change(OFFERED, day_start)),
        offered_today=change(OFFERED, day_start),
        missed_today={cause: count for cause, count in change_by(MISSED, "cause", day_start).items()
                      if count > 0},
        callers_waiting=now.total("callsla_callers_waiting"),
        longest_wait_seconds=max(longest, default=0.0),
        returned_today=change(RETURNED, day_start),
        callbacks_open=now.total("callsla_callbacks_open"),
        callbacks_overdue=now.total("callsla_callbacks_overdue"),
        status_on_time_15m=ratio(change(STATUS_BUCKET, window_start, le=on_time),
                                 change(STATUS_COUNT, window_start)),
        departments=departments,
    )

