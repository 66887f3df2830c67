"""`callsla report`: the quarterly charter-compliance report, built once, rendered to a format."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from monitor.core.charter import Charter
from monitor.reports.charts import report_charts
from monitor.reports.destination import atomic_file, check_writable
from monitor.reports.errors import ReportError
from monitor.reports.export_log import new_log_entry
from monitor.reports.formats import REPORT_FORMATS, ReportFormat
from monitor.reports.indicators import IndicatorTally
from monitor.reports.periods import Period
from monitor.reports.person_figures import person_frame
from monitor.reports.quarter import QuarterReport
from monitor.reports.report_html import render_html
from monitor.reports.report_pdf import html_to_pdf
from monitor.reports.report_store import ReportStore
from monitor.reports.report_xlsx import write_xlsx
from monitor.reports.summary import findings


def build_report(source: ReportStore, charter: Charter, period: Period, *,
                 now: datetime | None = None) -> QuarterReport:
    """Read the period's legs, status messages, callbacks and person rings once."""
    now = now or datetime.now(UTC)
    tally = IndicatorTally(charter)
    legs = 0
    for chunk in source.legs(period):
        tally.add_legs(chunk)
        legs += len(chunk)
    if legs == 0:
        raise ReportError(f"no calls in {period.label} ({period.first_day} to "
                          f"{period.last_day}); no report written")
    for announcement in source.status_announcements(period):
        tally.add_status_announcement(announcement)
    for callback in source.callbacks(period):
        tally.add_callback(callback, as_of=now)
    indicators = tally.frame(period.months())
    return QuarterReport(period=period, charter=charter, indicators=indicators,
                         findings=findings(indicators, charter),
                         charts=report_charts(indicators, charter),
                         export_log=source.export_log(period), generated_at=now, leg_count=legs,
                         pbx=source.pbx, export_log_head=source.export_log_head(),
                         persons=person_frame(source.person_rings(
                             period, within_seconds=charter.answer_within_seconds)))


def _render(report: QuarterReport, fmt: ReportFormat, temp: Path) -> None:
    if fmt == "xlsx":
        write_xlsx(report, temp)
    elif fmt == "html":
        temp.write_text(render_html(report), encoding="utf-8")
    else:
        html_to_pdf(render_html(report), temp)


def _check_format(fmt: ReportFormat) -> None:
    if fmt not in REPORT_FORMATS:
        raise ReportError(f"--format {fmt!r} must be one of {', '.join(REPORT_FORMATS)}")


def write_report(report: QuarterReport, fmt: ReportFormat, out: Path) -> None:
    """Render to a temporary file and rename it into place (not logged: see report_and_log)."""
    _check_format(fmt)
    check_writable(out)
    with atomic_file(out) as temp:
        _render(report, fmt, temp)


def report_and_log(source: ReportStore, charter: Charter, period: Period, fmt: ReportFormat,
                   out: Path, *, exported_by: str | None = None,
                   logged_path: str | None = None) -> QuarterReport:
    """Build, render, log the report in the export log, then rename it into place: the log
    entry is committed before the file appears. `exported_by` and `logged_path` as in
    `ExportRequest` (the console names its user and the download)."""
    _check_format(fmt)
    check_writable(out)
    report = build_report(source, charter, period)
    with atomic_file(out) as temp:
        _render(report, fmt, temp)
        source.log_export(new_log_entry(kind="report", period=period, fmt=fmt,
                                        path=logged_path or str(out.resolve()),
                                        row_count=report.leg_count, masked=True,
                                        exported_by=exported_by))
    return report
