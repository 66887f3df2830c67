"""Readings of the monitor's own counters, kept for 15 minutes and since midnight.

The built-in wallboard works without Prometheus, so it keeps what Prometheus would: the raw
counter values now, 15 minutes ago and at the start of the local day. Windows are counter
differences (no extrapolation), which equal Prometheus's raw-counter differences at a scrape.
A window never reaches back before the first reading (the monitor's start, after it rebuilt
its counters from the store): the page then says "today from HH:MM".

The history is bounded whatever the request rate: a reading is kept only if it is at least
`KEEP_EVERY_SECONDS` after the last one kept (a wallboard asking every second adds none). A kept
reading holds only the samples a window subtracts (figures.py says which: no per-person
histogram, one bucket per histogram), under keys shared by every reading: a few kilobytes each.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo

from prometheus_client import CollectorRegistry

LabelSet = tuple[tuple[str, str], ...]
SampleKey = tuple[str, LabelSet]
KeepSample = Callable[[str, LabelSet], bool]  # (sample name, labels): kept in the history?
WINDOW_SECONDS = 15 * 60.0
KEEP_EVERY_SECONDS = 5.0  # the wallboard's own reading interval: at most 180 readings kept


@dataclass(frozen=True)
class Snapshot:
    """Every `callsla_*` sample at one moment: (sample name, labels) -> value."""

    taken_at: datetime
    monotonic: float
    samples: Mapping[SampleKey, float] = field(default_factory=dict)

    def select(self, name: str, **where: str) -> Iterable[tuple[dict[str, str], float]]:
        for (sample, labels), value in self.samples.items():
            if sample != name:
                continue
            label_map = dict(labels)
            if all(label_map.get(k, "") == v for k, v in where.items()):
                yield label_map, value

    def total(self, name: str, **where: str) -> float:
        return sum(value for _labels, value in self.select(name, **where))

    def total_by(self, name: str, label: str, **where: str) -> dict[str, float]:
        sums: dict[str, float] = {}
        for labels, value in self.select(name, **where):
            key = labels.get(label, "")
            sums[key] = sums.get(key, 0.0) + value
        return sums


def read_snapshot(registry: CollectorRegistry, *, now: datetime) -> Snapshot:
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in registry.collect() if family.name.startswith("callsla_")
        for sample in family.samples if not sample.name.endswith("_created")
    }
    return Snapshot(taken_at=now, monotonic=time.monotonic(), samples=samples)


class SnapshotHistory:
    """Snapshots of the last 15 minutes, and the first one of the local day. `keep`: the
    samples a window subtracts (all when None); the first reading and the day's are kept
    whole."""

    def __init__(self, *, timezone: tzinfo, first: Snapshot,
                 keep: KeepSample | None = None) -> None:
        self._zone = timezone
        self._keep = keep
        self._keys: dict[SampleKey, SampleKey] = {}  # one key object for every reading
        self._history: deque[Snapshot] = deque([first])
        self._start = first
        self._day: date = first.taken_at.astimezone(timezone).date()
        self._day_start = first

    def add(self, snapshot: Snapshot) -> None:
        day = snapshot.taken_at.astimezone(self._zone).date()
        if day != self._day:
            self._day, self._day_start = day, snapshot
        if snapshot.monotonic - self._history[-1].monotonic < KEEP_EVERY_SECONDS:
            return
        self._history.append(self._kept(snapshot))
        while len(self._history) > 1 and (
                snapshot.monotonic - self._history[1].monotonic >= WINDOW_SECONDS):
            self._history.popleft()

    def _kept(self, snapshot: Snapshot) -> Snapshot:
        if self._keep is None:
            return snapshot
        keys, keep = self._keys, self._keep
        samples = {keys.setdefault(key, key): value for key, value in snapshot.samples.items()
                   if keep(*key)}
        return Snapshot(taken_at=snapshot.taken_at, monotonic=snapshot.monotonic,
                        samples=samples)

    def __len__(self) -> int:
        """Readings kept for the 15-minute window."""
        return len(self._history)

    def window_start(self, now_monotonic: float) -> Snapshot:
        """The newest snapshot at least 15 minutes old, or the start if the monitor is younger."""
        if self._history and now_monotonic - self._history[0].monotonic >= WINDOW_SECONDS:
            return self._history[0]
        return self._start

    def start(self) -> Snapshot:
        return self._start

    def day_start(self) -> Snapshot:
        return self._day_start
