"""Turns leg transitions into the `callsla_*` counters: one rule for live, backfill and rebuild."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client import Counter, Histogram

from monitor.core.definitions import missed_cause
from monitor.core.metrics import ANSWER_WAIT_BUCKETS, CallMetrics
from monitor.core.records import CallLeg, LegKind, MissedCause, Outcome, PersonRing
from monitor.ingest.call_state import LegUpdate
from monitor.store import LegTally


def leg_labels(leg: CallLeg) -> tuple[str, str, str]:
    """(pbx, queue, department): queue legs carry the queue, officer legs the department."""
    return _labels(leg.pbx, leg.kind, leg.queue, leg.department)


def _labels(pbx: str, kind: LegKind, queue: str, department: str) -> tuple[str, str, str]:
    if kind in (LegKind.FRONT_DESK, LegKind.RETURNED):
        return pbx, queue, ""
    return pbx, "", department


@dataclass(frozen=True)
class _LegSeries:
    offered: Counter
    answered: Counter
    wait: Histogram
    returned: Counter
    missed: dict[MissedCause, Counter]


class LegCounter:
    """Counts each transition once; the caller guarantees each transition is reported once."""

    def __init__(self, metrics: CallMetrics) -> None:
        self.metrics = metrics
        self._children: dict[tuple[str, str, str], _LegSeries] = {}

    def _series(self, labels: tuple[str, str, str]) -> _LegSeries:
        """The label children of one (pbx, queue, department), looked up once (hot path)."""
        series = self._children.get(labels)
        if series is None:
            m = self.metrics
            series = self._children[labels] = _LegSeries(
                offered=m.calls_offered.labels(*labels),
                answered=m.calls_answered.labels(*labels),
                wait=m.answer_wait.labels(*labels),
                returned=m.transfers_returned.labels(*labels),
                missed={c: m.calls_missed.labels(*labels, c.value) for c in MissedCause})
        return series

    def declare(self, pbx: str, *, queues: Iterable[str], departments: Iterable[str]) -> None:
        """Create every series up front so dashboards show 0, not "no data", before a call."""
        m = self.metrics
        label_sets = [(pbx, q, "") for q in queues] + [(pbx, "", d) for d in departments]
        for labels in label_sets:
            for family in (m.calls_offered, m.calls_answered, m.answer_wait,
                           m.transfers_returned, m.voicemails, m.callers_waiting,
                           m.longest_wait, m.status_interval):
                family.labels(*labels)
            for cause in MissedCause:
                m.calls_missed.labels(*labels, cause.value)
        for department in departments:
            m.callbacks_open.labels(pbx, department)
            m.callbacks_overdue.labels(pbx, department)

    def count(self, update: LegUpdate) -> None:
        leg = update.leg
        for ring in update.rings:
            self.count_ring(ring)
        if update.answered and leg.answered_by:
            wait = leg.answer_wait_seconds
            if wait is not None:
                self.metrics.person_answer_wait.labels(leg.pbx, leg.answered_by).observe(
                    max(wait, 0.0))
        series = self._series(leg_labels(leg))
        if update.offered:
            series.offered.inc()
        if update.answered:
            series.answered.inc()
            wait = leg.answer_wait_seconds
            if wait is not None:
                series.wait.observe(max(wait, 0.0))
        if update.ended:
            cause = missed_cause(leg)
            if cause is not None:
                series.missed[cause].inc()
            elif leg.outcome is Outcome.RETURNED:
                series.returned.inc()

    def count_ring(self, ring: PersonRing) -> None:
        self.metrics.person_rings.labels(ring.pbx, ring.person, ring.result.value).inc()

    def count_stored(self, leg: CallLeg) -> None:
        """Count a leg read back from the store, as if its transitions happened now."""
        self.count(LegUpdate(leg, offered=True, answered=leg.answered_at is not None,
                             ended=leg.outcome is not Outcome.IN_PROGRESS))

    def rebuild(self, pbx: str, tallies: Iterable[LegTally],
                waits: Iterable[tuple[LegKind, str, str, int, int, float]],
                person_waits: Iterable[tuple[str, int, int, float]] = (),
                rings: Iterable[tuple[str, str, int]] = ()) -> int:
        """Counters from the store's tallies, by the same rules as `count`; returns legs."""
        legs = 0
        for t in tallies:
            series = self._series(_labels(pbx, t.kind, t.queue, t.department))
            legs += t.count
            series.offered.inc(t.count)
            if t.answered:
                series.answered.inc(t.count)
            if t.outcome is Outcome.MISSED:
                series.missed[t.missed_cause or MissedCause.OTHER].inc(t.count)
            elif t.outcome is Outcome.RETURNED:
                series.returned.inc(t.count)
        for kind, queue, department, index, count, total in waits:
            _observe_bucket(self._series(_labels(pbx, kind, queue, department)).wait,
                            index, count, total)
        for person, index, count, total in person_waits:
            _observe_bucket(self.metrics.person_answer_wait.labels(pbx, person), index, count,
                            total)
        for person, result, count in rings:
            self.metrics.person_rings.labels(pbx, person, result).inc(count)
        return legs


_BOUNDS = (0.0, *ANSWER_WAIT_BUCKETS, math.inf)


def _observe_bucket(histogram: Histogram, index: int, count: int, total: float) -> None:
    """n observations of the bucket's mean give its exact count and (to rounding) sum."""
    low, high = _BOUNDS[index], _BOUNDS[index + 1]
    mean = min(max(total / count, math.nextafter(low, math.inf)), high)
    if index == 0:
        mean = min(max(total / count, 0.0), high)
    for _ in range(count):
        histogram.observe(mean)


def transitions(old: CallLeg | None, new: CallLeg) -> LegUpdate:
    """What `new` adds to what the store already had as `old` (backfill: nothing twice)."""
    if old is None:
        return LegUpdate(new, offered=True, answered=new.answered_at is not None,
                         ended=new.outcome is not Outcome.IN_PROGRESS)
    return LegUpdate(new, offered=False,
                     answered=old.answered_at is None and new.answered_at is not None,
                     ended=old.outcome is Outcome.IN_PROGRESS
                     and new.outcome is not Outcome.IN_PROGRESS)
