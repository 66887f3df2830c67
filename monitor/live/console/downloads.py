"""Exports and quarterly reports for the auditor's page and the API: the CLI's own code path.

`export_calls` and `report_and_log` (monitor/reports) write the file and its export-log entry,
the entry committed before the file is served. They run in a worker thread on a second store
connection (a large export takes seconds of CPU; the loop keeps serving AMI and pages), into a
private folder that is removed once the file has been sent; it is sent from disk in chunks,
so no export is ever whole in memory.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import BinaryIO, Literal, get_args

from aiohttp import hdrs, web

from monitor.core.accounts import Account, Right
from monitor.core.charter import Charter
from monitor.reports.errors import ReportError
from monitor.reports.formats import EXPORT_FORMATS, ExportFormat, ReportFormat
from monitor.reports.periods import Period, day_range, parse_day, parse_quarter
from monitor.store import Store

log = logging.getLogger(__name__)

Per = Literal["leg", "call"]
CHUNK_BYTES = 256 * 1024
CONSOLE_REPORT_FORMATS: tuple[ReportFormat, ...] = ("pdf", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "parquet": "application/vnd.apache.parquet",
    "pdf": "application/pdf",
}


class DownloadRefusedError(Exception):
    """The account may not take this download (403), whatever the form says."""


@dataclass(frozen=True)
class ExportAsk:
    """A checked export request from a form or a JSON body."""

    first_day: date
    last_day: date
    fmt: ExportFormat
    per: Per
    masked: bool
    reason: str

    @property
    def file_name(self) -> str:
        masking = "" if self.masked else "-unmasked"
        per = "" if self.per == "leg" else "-per-call"
        return (f"callsla-export-{self.first_day}-{self.last_day}{per}{masking}.{self.fmt}")


@dataclass(frozen=True)
class ReportAsk:
    quarter: str
    fmt: ReportFormat

    @property
    def file_name(self) -> str:
        return f"callsla-report-{self.quarter}.{self.fmt}"


def parse_export_ask(fields: Mapping[str, str], account: Account) -> ExportAsk:
    """Raises ReportError for bad input, DownloadRefusedError for data the account may not have.

    Masked unless `unmasked` is on; unmasked needs the EXPORT_UNMASKED right and a reason."""
    if not account.may(Right.EXPORT_MASKED):
        raise DownloadRefusedError("this account may not export")
    first = parse_day(fields.get("from", "").strip(), option="from")
    last = parse_day(fields.get("to", "").strip(), option="to")
    if last < first:
        raise ReportError(f"dates out of order: from {first} is after to {last}")
    fmt = fields.get("format", "csv")
    if fmt not in EXPORT_FORMATS:
        raise ReportError(f"format {fmt!r} must be one of {', '.join(EXPORT_FORMATS)}")
    per = fields.get("per", "leg")
    if per not in get_args(Per):
        raise ReportError(f"per {per!r} must be leg or call")
    unmasked = fields.get("unmasked", "") in ("1", "on", "true")
    reason = fields.get("reason", "").strip()
    if unmasked and not account.may(Right.EXPORT_UNMASKED):
        raise DownloadRefusedError("only an auditor may export unmasked data")
    if unmasked and not reason:
        raise ReportError("an unmasked export needs a reason (PDPA 2010: say why personal "
                          "data leaves the system)")
    return ExportAsk(first_day=first, last_day=last, fmt=fmt, per=per,  # type: ignore[arg-type]
                     masked=not unmasked, reason=reason if unmasked else "")


def parse_report_ask(fields: Mapping[str, str], account: Account) -> ReportAsk:
    if not account.may(Right.EXPORT_MASKED):
        raise DownloadRefusedError("this account may not take reports")
    quarter = fields.get("quarter", "").strip().upper().replace("-", "")
    fmt = fields.get("format", "pdf")
    if fmt not in CONSOLE_REPORT_FORMATS:
        raise ReportError(f"format {fmt!r} must be one of {', '.join(CONSOLE_REPORT_FORMATS)}")
    return ReportAsk(quarter=quarter, fmt=fmt)


class Downloads:
    """Makes the files; `reader` opens the second store connection the worker thread uses."""

    def __init__(self, *, charter: Charter, pbx: str, reader: Callable[[], Store]) -> None:
        self.charter = charter
        self.pbx = pbx
        self._reader = reader

    def _period(self, ask: ExportAsk) -> Period:
        return day_range(ask.first_day, ask.last_day, self.charter.timezone)

    def _export(self, ask: ExportAsk, out: Path, exported_by: str) -> None:
        from monitor.reports.export import ExportRequest, export_calls  # pandas: when asked
        from monitor.reports.report_store import ReportStore

        store = self._reader()
        try:
            export_calls(ReportStore(store, pbx=self.pbx), self.charter, ExportRequest(
                period=self._period(ask), fmt=ask.fmt, out=out, masked=ask.masked,
                reason=ask.reason, per=ask.per, progress=False, exported_by=exported_by,
                logged_path=f"download {ask.file_name}"))
        finally:
            store.close()

    def _report(self, ask: ReportAsk, out: Path, exported_by: str) -> None:
        from monitor.reports.report import report_and_log
        from monitor.reports.report_store import ReportStore

        period = parse_quarter(ask.quarter, self.charter.timezone)
        store = self._reader()
        try:
            report_and_log(ReportStore(store, pbx=self.pbx), self.charter, period, ask.fmt, out,
                           exported_by=exported_by, logged_path=f"download {ask.file_name}")
        finally:
            store.close()

    async def serve(self, request: web.Request, ask: ExportAsk | ReportAsk,
                    exported_by: str) -> web.StreamResponse:
        """Make, log and send the file; raises ReportError (nothing in the range, ...) before
        any byte is sent."""
        if isinstance(ask, ExportAsk):
            def make(out: Path) -> None:
                self._export(ask, out, exported_by)
        else:
            def make(out: Path) -> None:
                self._report(ask, out, exported_by)
        return await self._serve(request, ask.file_name, ask.fmt, exported_by, make)

    async def _serve(self, request: web.Request, name: str, fmt: str, exported_by: str,
                     make: Callable[[Path], None]) -> web.StreamResponse:
        folder = Path(tempfile.mkdtemp(prefix="callsla-download-"))  # 0700
        try:
            out = folder / name
            await asyncio.to_thread(make, out)
            size = out.stat().st_size
            log.info("%s downloads %s (%d bytes, in the export log)", exported_by, name, size)
            with out.open("rb") as file:
                # Gone from the disk before the first byte is sent (the open file is still
                # read): a client that hangs up, or a crash, leaves no export behind, and the
                # folder is gone when the client has the last byte (it raced the send's end).
                shutil.rmtree(folder, ignore_errors=True)
                return await _send(request, file, name=name, size=size,
                                   content_type=CONTENT_TYPES[fmt])
        finally:
            shutil.rmtree(folder, ignore_errors=True)


async def _send(request: web.Request, file: BinaryIO, *, name: str, size: int,
                content_type: str) -> web.StreamResponse:
    """Chunk by chunk, each read in a worker thread (a slow disk does not stall the loop)."""
    response = web.StreamResponse(headers={
        hdrs.CONTENT_TYPE: content_type, hdrs.CONTENT_LENGTH: str(size),
        hdrs.CONTENT_DISPOSITION: f'attachment; filename="{name}"',
        hdrs.CACHE_CONTROL: "no-store"})
    await response.prepare(request)
    while chunk := await asyncio.to_thread(file.read, CHUNK_BYTES):
        await response.write(chunk)
    await response.write_eof()
    return response
