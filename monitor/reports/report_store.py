"""What reports read from the store beyond its own API, and the export log they keep in it.

The export log's table is the store's migration 2 (`monitor/store/_schema.py`). Everything
goes through the store's public methods (its one connection), so reads see its writes.
"""

from __future__ import annotations

import getpass
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pandas as pd

from monitor.core.records import Callback, CallLeg, StatusAnnouncement
from monitor.reports.periods import Period
from monitor.store import PersonRingTally, Store

EXPORT_LOG_COLUMNS = ("export_id", "exported_at", "exported_by", "host", "kind", "first_day",
                      "last_day", "department", "queue", "format", "path", "row_count",
                      "masked", "reason")


@dataclass(frozen=True)
class ExportLogEntry:
    """Who took which records out, when, for which range, masked or not (PDPA 2010)."""

    exported_at: datetime
    exported_by: str
    host: str
    kind: str  # export | report
    first_day: date
    last_day: date
    department: str
    queue: str
    format: str
    path: str
    row_count: int
    masked: bool
    reason: str
    export_id: str = ""


def current_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def new_log_entry(*, kind: str, period: Period, fmt: str, path: str, row_count: int,
                  masked: bool, reason: str = "", department: str = "",
                  queue: str = "") -> ExportLogEntry:
    return ExportLogEntry(exported_at=datetime.now(UTC), exported_by=current_user(),
                          host=socket.gethostname(), kind=kind, first_day=period.first_day,
                          last_day=period.last_day, department=department, queue=queue,
                          format=fmt, path=path, row_count=row_count, masked=masked,
                          reason=reason, export_id=uuid.uuid4().hex)


class ReportStore:
    """The store as reports see it: legs in chunks, departments, callbacks, the export log."""

    def __init__(self, store: Store, *, pbx: str | None = None) -> None:
        """`pbx` limits every read to one PBX's records; None reads them all."""
        self.store = store
        self.pbx = pbx

    def departments(self) -> list[str]:
        """Every department the store has seen on a leg or a callback."""
        return self.store.departments()

    def queues(self) -> list[str]:
        return self.store.queues()

    def count_legs(self, period: Period, *, department: str | None = None,
                   queue: str | None = None) -> int:
        return self.store.count_legs_between(period.start, period.end, department=department,
                                             queue=queue, pbx=self.pbx)

    def legs(self, period: Period, *, department: str | None = None, queue: str | None = None,
             chunk_size: int = 20_000) -> Iterator[list[CallLeg]]:
        """The period's legs in offered order, `chunk_size` at a time."""
        chunk: list[CallLeg] = []
        for leg in self.store.legs_between(period.start, period.end, department=department,
                                           queue=queue, pbx=self.pbx, chunk_size=chunk_size):
            chunk.append(leg)
            if len(chunk) >= chunk_size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def leg_frames(self, period: Period, *, department: str | None = None,
                   queue: str | None = None, chunk_size: int = 50_000) -> Iterator[pd.DataFrame]:
        """The same legs as `legs`, as frames of the store's `LEG_FRAME_COLUMNS` (UTC)."""
        return self.store.leg_frames_between(period.start, period.end, department=department,
                                             queue=queue, pbx=self.pbx, chunk_size=chunk_size)

    def callbacks(self, period: Period) -> list[Callback]:
        """Callbacks whose message was left in the period."""
        return [cb for cb in self.store.callbacks(pbx=self.pbx)
                if period.start <= cb.contacted_at < period.end]

    def person_rings(self, period: Period, *, within_seconds: float) -> list[PersonRingTally]:
        """Rings of the period's legs per queue or department, person and result."""
        return self.store.person_ring_figures(period.start, period.end,
                                              within_seconds=within_seconds, pbx=self.pbx)

    def status_announcements(self, period: Period) -> list[StatusAnnouncement]:
        return self.store.status_announcements(period.start, period.end, pbx=self.pbx)

    def log_export(self, entry: ExportLogEntry) -> None:
        t = self.store.time_param
        self.store.execute(
            f"INSERT INTO export_log ({', '.join(EXPORT_LOG_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in EXPORT_LOG_COLUMNS)})",
            (entry.export_id, t(entry.exported_at), entry.exported_by, entry.host, entry.kind,
             entry.first_day.isoformat(), entry.last_day.isoformat(), entry.department,
             entry.queue, entry.format, entry.path, entry.row_count, int(entry.masked),
             entry.reason))

    def export_log(self, period: Period) -> list[ExportLogEntry]:
        """Exports made during the period or covering any part of it, oldest first."""
        found = self.store.query(
            f"SELECT {', '.join(EXPORT_LOG_COLUMNS)} FROM export_log "
            "WHERE (exported_at >= ? AND exported_at < ?) OR (first_day <= ? AND last_day >= ?) "
            "ORDER BY exported_at",
            (self.store.time_param(period.start), self.store.time_param(period.end),
             period.last_day.isoformat(), period.first_day.isoformat()))
        out = []
        for row in found:
            v = dict(zip(EXPORT_LOG_COLUMNS, row, strict=True))
            at = self.store.time_value(v["exported_at"])
            assert at is not None
            out.append(ExportLogEntry(
                exported_at=at, exported_by=str(v["exported_by"]), host=str(v["host"]),
                kind=str(v["kind"]), first_day=date.fromisoformat(str(v["first_day"])),
                last_day=date.fromisoformat(str(v["last_day"])),
                department=str(v["department"]), queue=str(v["queue"]),
                format=str(v["format"]), path=str(v["path"]),
                row_count=int(v["row_count"]),
                masked=bool(v["masked"]), reason=str(v["reason"]),
                export_id=str(v["export_id"])))
        return out
