"""The quarterly report as an Excel workbook (openpyxl): summary, tables, charts, export log."""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import Workbook
from openpyxl.drawing.image import Image
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from monitor.reports.person_figures import PERSON_COLUMNS
from monitor.reports.quarter import QuarterReport
from monitor.reports.wording import (
    RATE_COLUMNS,
    SECONDS_COLUMNS,
    TITLE,
    bilingual,
    department_name,
    label,
    month_name,
    person_group_name,
)

BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="E8EEF5")
MISS_FONT = Font(bold=True, color="B00020")


def _summary(sheet: Worksheet, report: QuarterReport) -> None:
    c = report.charter
    zone = c.timezone
    sheet.append([bilingual(TITLE)])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([f"{report.period.label}: {report.period.first_day} - {report.period.last_day}"
                  f" ({zone.key})"])
    sheet.append([f"Dijana / Generated: "
                  f"{report.generated_at.astimezone(zone).isoformat(timespec='seconds')}"])
    for note in report.notes():
        sheet.append([bilingual(note)])
    sheet.append([])
    for key, value in (("Jawab dalam / Answer within (s)", c.answer_within_seconds),
                       ("Sasaran / Target", c.answer_rate_target),
                       ("Makluman status / Status message every (s)", c.status_interval_seconds),
                       ("Panggilan balik / Callback within (h)", c.callback_due_hours)):
        sheet.append([key, value])
    sheet.append([])
    sheet.append(["Ringkasan / Summary"])
    sheet.cell(sheet.max_row, 1).font = BOLD
    for finding in report.findings:
        sheet.append([finding[0]])
        sheet.append([finding[1]])
        sheet.cell(sheet.max_row, 1).font = Font(italic=True, color="555555")
    sheet.column_dimensions["A"].width = 110


def _indicators(sheet: Worksheet, report: QuarterReport) -> None:
    frame = report.indicators
    columns = [c for c in frame.columns if c not in ("month", "department")]
    sheet.append([label("month"), label("department"), *(label(c) for c in columns)])
    for cell in sheet[1]:
        cell.font, cell.fill = BOLD, HEADER_FILL
    target = report.charter.answer_rate_target
    for record in frame.to_dict("records"):
        values = [None if isinstance(record[c], float) and record[c] != record[c] else record[c]
                  for c in columns]
        sheet.append([month_name(str(record["month"])),
                      department_name(str(record["department"])), *values])
        row = sheet.max_row
        for offset, (column, value) in enumerate(zip(columns, values, strict=True), start=3):
            cell = sheet.cell(row, offset)
            if column in RATE_COLUMNS:
                cell.number_format = "0.0%"
            elif column in SECONDS_COLUMNS:
                cell.number_format = "0.0"
            if column == "answer_rate" and isinstance(value, float) and value < target:
                cell.font = MISS_FONT
        if record["department"] == "*":
            sheet.cell(row, 2).font = BOLD
    sheet.freeze_panes = "C2"
    sheet.column_dimensions["A"].width = 26
    sheet.column_dimensions["B"].width = 28
    for index in range(3, len(columns) + 3):
        sheet.column_dimensions[get_column_letter(index)].width = 16


def _persons(sheet: Worksheet, report: QuarterReport) -> None:
    """Jadual 2: one row per person and queue or department, rates as percentages."""
    columns = PERSON_COLUMNS[3:]
    sheet.append([label("group"), label("person"), *(label(c) for c in columns)])
    for cell in sheet[1]:
        cell.font, cell.fill = BOLD, HEADER_FILL
    for record in report.persons.to_dict("records"):
        values = [None if isinstance(record[c], float) and record[c] != record[c] else record[c]
                  for c in columns]
        sheet.append([person_group_name(str(record["group_kind"]), str(record["group"])),
                      str(record["person"]), *values])
        for offset, column in enumerate(columns, start=3):
            if column in RATE_COLUMNS:
                sheet.cell(sheet.max_row, offset).number_format = "0.0%"
    sheet.freeze_panes = "C2"
    sheet.column_dimensions["A"].width = 48
    sheet.column_dimensions["B"].width = 24
    for index in range(3, len(columns) + 3):
        sheet.column_dimensions[get_column_letter(index)].width = 18


def _charts(sheet: Worksheet, report: QuarterReport) -> None:
    row = 1
    for chart in report.charts:
        sheet.cell(row, 1, chart.title).font = BOLD
        image = Image(io.BytesIO(chart.png))
        sheet.add_image(image, f"A{row + 1}")
        row += int(image.height / 20) + 4


def _export_log(sheet: Worksheet, report: QuarterReport) -> None:
    sheet.append(["Masa / When", "Oleh / By", "Hos / Host", "Jenis / Kind", "Dari / From",
                  "Hingga / To", "Bahagian / Department", "Giliran / Queue", "Format",
                  "Baris / Rows", "Bertopeng / Masked", "Sebab / Reason", "Fail / File"])
    for cell in sheet[1]:
        cell.font, cell.fill = BOLD, HEADER_FILL
    zone = report.charter.timezone
    for e in report.export_log:
        sheet.append([e.exported_at.astimezone(zone).isoformat(timespec="seconds"),
                      e.exported_by, e.host, e.kind, e.first_day.isoformat(),
                      e.last_day.isoformat(), e.department, e.queue, e.format, e.row_count,
                      e.masked, e.reason, e.path])


def _text_never_formula(book: Workbook) -> None:
    """openpyxl makes any text beginning with `=` a formula; the report has none of its own,
    so such a text (a department or reason from outside) stays text."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"


def write_xlsx(report: QuarterReport, path: Path) -> None:
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = "Ringkasan Summary"
    _summary(summary, report)
    _indicators(book.create_sheet("Jadual 1"), report)
    _persons(book.create_sheet("Jadual 2"), report)
    _charts(book.create_sheet("Carta Charts"), report)
    _export_log(book.create_sheet("Log eksport Export log"), report)
    _text_never_formula(book)
    book.save(path)
