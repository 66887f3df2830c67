"""The quarterly report as one self-contained HTML page (inline CSS and SVG), ready to print."""

from __future__ import annotations

from html import escape

import pandas as pd

from monitor.reports.indicators import CAUSES
from monitor.reports.person_figures import PERSON_COLUMNS
from monitor.reports.quarter import QuarterReport
from monitor.reports.wording import (
    LABELS,
    TITLE,
    bilingual,
    department_name,
    format_value,
    label,
    month_name,
    person_group_name,
)

TABLES: tuple[tuple[tuple[str, str], tuple[str, ...]], ...] = (
    (("Jawapan dan masa menunggu", "Answering and waiting time"),
     ("offered", "answered", "answered_within_standard", "answer_rate", "mean_wait_seconds",
      "p90_wait_seconds", "max_wait_seconds")),
    (("Panggilan tidak berjawab mengikut punca", "Missed calls by cause"),
     ("missed", *(f"missed_{c.value}" for c in CAUSES))),
    (("Makluman status, pindahan, pesanan dan panggilan balik",
      "Status messages, transfers, messages and callbacks"),
     ("status_messages", "status_rate", "transfers", "transfers_returned", "voicemails",
      "callbacks", "callbacks_on_time", "callbacks_late", "callbacks_overdue", "callback_rate")),
)

CSS = """
@page { size: A4 landscape; margin: 12mm; }
body { font-family: "DejaVu Sans", sans-serif; font-size: 9pt; color: #222; }
h1 { font-size: 15pt; margin: 0 0 4pt; } h2 { font-size: 11.5pt; margin: 14pt 0 4pt; }
.en { color: #555; font-style: italic; }
table { border-collapse: collapse; width: 100%; margin-bottom: 8pt; }
th, td { border: 1px solid #bbb; padding: 2pt 4pt; text-align: right; }
th { background: #e8eef5; font-weight: 600; } td.name, th.name { text-align: left; }
tr.total td { font-weight: 700; background: #f5f5f5; }
tr.month td { background: #dde6f0; font-weight: 700; text-align: left; }
td.miss { color: #b00020; font-weight: 700; }
.chart svg { height: 56mm; width: auto; } .chart { page-break-inside: avoid; }
section { page-break-inside: auto; } .new-page { page-break-before: always; }
"""


def _both(pair: tuple[str, str]) -> str:
    return f'{escape(pair[0])} <span class="en">/ {escape(pair[1])}</span>'


def _cell(report: QuarterReport, column: str, value: object) -> str:
    text = escape(format_value(column, value))
    missed = (column == "answer_rate" and isinstance(value, float) and value == value
              and value < report.charter.answer_rate_target)
    return f'<td class="miss">{text}</td>' if missed else f"<td>{text}</td>"


def _table(report: QuarterReport, columns: tuple[str, ...]) -> str:
    head = "".join(f"<th>{escape(label(c))}</th>" for c in columns)
    rows = [f'<tr><th class="name">{escape(label("department"))}</th>{head}</tr>']
    frame: pd.DataFrame = report.indicators
    for month in dict.fromkeys(frame["month"]):
        rows.append(f'<tr class="month"><td colspan="{len(columns) + 1}">'
                    f"{escape(month_name(str(month)))}</td></tr>")
        for _, row in frame[frame["month"] == month].iterrows():
            css = ' class="total"' if row["department"] == "*" else ""
            cells = "".join(_cell(report, c, row[c]) for c in columns)
            rows.append(f'<tr{css}><td class="name">'
                        f'{escape(department_name(str(row["department"])))}</td>{cells}</tr>')
    return "<table>" + "".join(rows) + "</table>"


def _persons(report: QuarterReport) -> str:
    """Jadual 2: a heading row per queue or department, a row per person under it."""
    frame = report.persons
    if frame.empty:
        return ("<p>Tiada deringan direkodkan. <span class=\"en\">/ No rings recorded.</span>"
                "</p>")
    columns = PERSON_COLUMNS[3:]
    head = "".join(f"<th>{escape(label(c))}</th>" for c in columns)
    rows = [f'<tr><th class="name">{escape(label("person"))}</th>{head}</tr>']
    for (kind, group), people in frame.groupby(["group_kind", "group"], sort=False):
        rows.append(f'<tr class="month"><td colspan="{len(columns) + 1}">'
                    f"{escape(person_group_name(str(kind), str(group)))}</td></tr>")
        for _, row in people.iterrows():
            cells = "".join(f"<td>{escape(format_value(c, row[c]))}</td>" for c in columns)
            rows.append(f'<tr><td class="name">{escape(str(row["person"]))}</td>{cells}</tr>')
    return "<table>" + "".join(rows) + "</table>"


def _standards(report: QuarterReport) -> str:
    c = report.charter
    items = (
        (("Jawab dalam", "Answer within"), f"{c.answer_within_seconds:g} s"),
        (("Sasaran kadar jawab", "Answer-rate target"), f"{c.answer_rate_target * 100:g}%"),
        (("Makluman status setiap", "Status message every"), f"{c.status_interval_seconds:g} s"),
        (("Panggilan balik dalam", "Callback within"), f"{c.callback_due_hours:g} h"),
        (("Zon waktu", "Time zone"), c.timezone.key),
    )
    rows = "".join(f'<tr><td class="name">{_both(k)}</td><td>{escape(v)}</td></tr>'
                   for k, v in items)
    return f'<table style="width:auto">{rows}</table>'


def _export_log(report: QuarterReport) -> str:
    if not report.export_log:
        return "<p>Tiada eksport. <span class=\"en\">/ No exports.</span></p>"
    head = ("Masa / When", "Oleh / By", "Jenis / Kind", "Julat / Range", "Bahagian / Dept",
            "Format", "Baris / Rows", "Bertopeng / Masked", "Sebab / Reason", "Fail / File")
    rows = ["<tr>" + "".join(f'<th class="name">{escape(h)}</th>' for h in head) + "</tr>"]
    zone = report.charter.timezone
    for e in report.export_log:
        values = (e.exported_at.astimezone(zone).isoformat(timespec="seconds"),
                  f"{e.exported_by}@{e.host}", e.kind, f"{e.first_day} - {e.last_day}",
                  e.department or "-", e.format, str(e.row_count),
                  "ya / yes" if e.masked else "TIDAK / NO", e.reason or "-", e.path)
        rows.append("<tr>" + "".join(f'<td class="name">{escape(v)}</td>' for v in values)
                    + "</tr>")
    return "<table>" + "".join(rows) + "</table>"


def render_html(report: QuarterReport) -> str:
    zone = report.charter.timezone
    parts = [
        f"<h1>{_both(TITLE)}</h1>",
        f"<p><b>{escape(report.period.label)}</b>: {report.period.first_day} &ndash; "
        f"{report.period.last_day} ({escape(zone.key)}). "
        f"Dijana / Generated {report.generated_at.astimezone(zone).isoformat(timespec='seconds')}"
        f". {report.leg_count} legs.</p>",
        "<ul>" + "".join(f"<li>{_both(n)}</li>" for n in report.notes()) + "</ul>",
        _standards(report),
        f"<h2>{_both(('Ringkasan', 'Summary'))}</h2>",
        "<ul>" + "".join(f"<li>{_both(f)}</li>" for f in report.findings) + "</ul>",
    ]
    for number, (title, columns) in enumerate(TABLES, start=1):
        parts.append(f"<section><h2>Jadual 1.{number}: {_both(title)}</h2>"
                     f"{_table(report, columns)}</section>")
    parts.append(f"<section><h2>Jadual 2: {_both(PERSONS_TITLE)}</h2>{_persons(report)}"
                 f"<p>{_both(PERSONS_NOTE)}</p></section>")
    parts.append(f'<h2 class="new-page">{_both(("Carta", "Charts"))}</h2>')
    parts += [f'<div class="chart">{chart.svg[chart.svg.find("<svg"):]}</div>'
              for chart in report.charts]
    parts.append(f"<h2>{_both(('Log eksport', 'Export log'))}</h2>{_export_log(report)}")
    parts.append(f"<h2>{_both(('Definisi', 'Definitions'))}</h2><ul>"
                 + "".join(f"<li>{escape(bilingual(LABELS[k]))}: {escape(v)}</li>"
                           for k, v in DEFINITIONS) + "</ul>")
    body = "\n".join(parts)
    return (f'<!DOCTYPE html>\n<html lang="ms"><head><meta charset="utf-8">'
            f"<title>{escape(TITLE[1])} {escape(report.period.label)}</title>"
            f"<style>{CSS}</style></head><body>\n{body}\n</body></html>\n")


PERSONS_TITLE = ("Setiap petugas kaunter dan pegawai", "Per receptionist and officer")
PERSONS_NOTE = (
    "Satu deringan ialah satu telefon petugas atau pegawai yang berdering untuk panggilan "
    "pelanggan; dijawab dalam 10 saat dikira daripada masa pemanggil mula menunggu.",
    "A ring is one phone of a receptionist or officer rung for a customer's call; answered "
    "within 10 s counts from when the caller started waiting.")

DEFINITIONS = (
    ("answer_rate", "legs answered within the standard / legs offered; abandoned, timed-out, "
                    "no-agent and returned legs count as offered."),
    ("missed", "offered and never answered by a person, by cause; a returned call later "
               "answered is not missed."),
    ("status_rate", "status messages heard within the standard interval (+1 s) of the "
                    "previous one / status messages after each caller's first."),
    ("callback_rate", "callbacks done by their due time / callbacks opened in the period."),
    ("person_within_rate", "rings a person answered within the standard (the leg's answer "
                           "wait) / rings that person answered; a ring is counted in the "
                           "period of its leg."),
)
