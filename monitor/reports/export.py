"""`callsla export`: call legs of a date range from the store to CSV, Excel or Parquet."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd
from tqdm import tqdm

from monitor.core.charter import Charter
from monitor.reports.calls_view import CallRollup, calls_frame
from monitor.reports.destination import atomic_file, check_writable
from monitor.reports.errors import ReportError
from monitor.reports.export_log import ExportLogEntry, new_log_entry
from monitor.reports.formats import EXPORT_FORMATS, ExportFormat
from monitor.reports.frames import legs_frame_from_columns
from monitor.reports.masking import mask_frame
from monitor.reports.periods import Period
from monitor.reports.report_store import ReportStore
from monitor.reports.writers import closing_writer, open_writer


@dataclass(frozen=True)
class ExportRequest:
    period: Period
    fmt: ExportFormat
    out: Path
    department: str | None = None
    queue: str | None = None
    masked: bool = True
    reason: str = ""
    chunk_size: int = 50_000
    progress: bool = True
    per: Literal["leg", "call"] = "leg"
    exported_by: str | None = None  # None: the process's account (the CLI); the console's user
    logged_path: str | None = None  # what the log says went where; None: `out`'s full path


def check_filters(source: ReportStore, *, department: str | None, queue: str | None) -> None:
    """An unknown department or queue is a typo, not an empty export."""
    if department is not None and department not in (known := source.departments()):
        raise ReportError(f"unknown department {department!r}; known: {', '.join(known) or '-'}")
    if queue is not None and queue not in (queues := source.queues()):
        raise ReportError(f"unknown queue {queue!r}; known: {', '.join(queues) or '-'}")


def export_calls(source: ReportStore, charter: Charter, request: ExportRequest) -> ExportLogEntry:
    """Stream the legs to a temporary file, record the export in the export log, then rename
    the file into place (`request.out`)."""
    if request.fmt not in EXPORT_FORMATS:
        raise ReportError(f"--format {request.fmt!r} must be one of {', '.join(EXPORT_FORMATS)}")
    check_writable(request.out)
    check_filters(source, department=request.department, queue=request.queue)
    total = source.count_legs(request.period, department=request.department,
                              queue=request.queue)
    if total == 0:
        raise ReportError(f"no calls from {request.period.first_day} to "
                          f"{request.period.last_day} with these filters; nothing written")
    callback_ids = {cb.call_id: cb.callback_id for cb in source.callbacks(request.period)}
    written = 0
    rollup = CallRollup()
    with atomic_file(request.out) as temp:
        with closing_writer(open_writer(request.fmt, temp)) as writer, \
                tqdm(total=total, unit="leg", disable=not request.progress,
                     desc=f"export {request.out.name}") as bar:

            def write(frame: pd.DataFrame) -> None:
                writer.write(mask_frame(frame) if request.masked else frame)

            if request.per == "call":
                for chunk in source.legs(request.period, department=request.department,
                                         queue=request.queue, chunk_size=request.chunk_size):
                    calls = rollup.add(chunk)
                    if calls:
                        write(calls_frame(calls, charter, callback_ids))
                    written += len(calls)
                    bar.update(len(chunk))
                calls = rollup.finish()
                if calls:
                    write(calls_frame(calls, charter, callback_ids))
                written += len(calls)
            else:  # per leg: columns straight from the store, no CallLeg per row
                for columns in source.leg_frames(request.period, department=request.department,
                                                 queue=request.queue,
                                                 chunk_size=request.chunk_size):
                    write(legs_frame_from_columns(columns, charter, callback_ids))
                    written += len(columns)
                    bar.update(len(columns))
        # Logged (and committed) before the file appears under its name: whatever happens
        # next, no export exists that the log does not list.
        kind = "export" if request.per == "leg" else "export per call"
        entry = source.log_export(new_log_entry(
            kind=kind, period=request.period, fmt=request.fmt,
            path=request.logged_path or str(request.out.resolve()), row_count=written,
            masked=request.masked, reason=request.reason, department=request.department or "",
            queue=request.queue or "", exported_by=request.exported_by))
    return entry
