"""The quarterly report from a generated quarter: indicators filled, xlsx/HTML/PDF render."""

from __future__ import annotations

import math
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest

from monitor.core.charter import Charter, load_charter
from monitor.core.definitions import answer_rate
from monitor.core.records import CallLeg, LegKind, MissedCause, Outcome, StatusAnnouncement
from monitor.reports.errors import ReportError
from monitor.reports.indicators import ALL_DEPARTMENTS, QUARTER, IndicatorTally
from monitor.reports.periods import Period, parse_quarter
from monitor.reports.quarter import QuarterReport
from monitor.reports.report import build_report, report_and_log, write_report
from monitor.reports.report_store import ReportStore
from monitor.store import open_store
from tests.support.report_data import generated_store


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Charter, Period]:
    return generated_store(tmp_path_factory.mktemp("quarter"))


@pytest.fixture
def source(generated: tuple[str, Charter, Period]) -> Iterator[ReportStore]:
    with open_store(generated[0]) as store:
        yield ReportStore(store)


@pytest.fixture
def report(source: ReportStore, generated: tuple[str, Charter, Period]) -> QuarterReport:
    return build_report(source, generated[1], generated[2])


def test_every_indicator_is_filled_for_every_month(report: QuarterReport) -> None:
    totals = report.indicators[report.indicators["department"] == ALL_DEPARTMENTS]
    assert list(totals["month"]) == ["2026-07", "2026-08", "2026-09", QUARTER]
    for _, row in totals.iterrows():
        for column, value in row.items():
            assert not (isinstance(value, float) and math.isnan(value)), (row["month"], column)
        for column in ("offered", "answered", "missed", "status_messages", "transfers",
                       "transfers_returned", "voicemails", "callbacks", "callbacks_on_time"):
            assert row[column] > 0, (row["month"], column)
    departments = set(report.indicators["department"])
    assert {"", "Kewangan", "Perlesenan", ALL_DEPARTMENTS} <= departments


def test_summary_names_where_the_standard_was_missed(report: QuarterReport) -> None:
    english = [en for _, en in report.findings]
    malay = [ms for ms, _ in report.findings]
    quarter = report.indicators[(report.indicators["month"] == QUARTER)
                                & (report.indicators["department"] == ALL_DEPARTMENTS)].iloc[0]
    assert english[0] == (f"Quarter: {quarter['answer_rate'] * 100:.1f}% of {quarter['offered']} "
                          "calls answered within 10 s (target 90.0%).")
    assert malay[0].startswith("Suku tahun: ")
    assert any(line.startswith("Kaunter hadapan / Front desk: below target in Jul")
               for line in english)
    late = quarter["status_messages"] - quarter["status_kept"]
    assert late > 0
    assert any(line.startswith(f"{late} of {quarter['status_messages']} status messages")
               for line in english)
    assert any(f"{quarter['missed']} calls missed: abandoned" in line for line in english)
    assert any(f"{quarter['missed']} panggilan tidak berjawab" in line for line in malay)


def _leg(n: int, wait: float | None, outcome: Outcome, *, cause: MissedCause | None = None,
         kind: LegKind = LegKind.FRONT_DESK, department: str = "") -> CallLeg:
    at = datetime(2026, 7, 6, 1, 0, tzinfo=UTC) + timedelta(minutes=n)
    return CallLeg(pbx="p", call_id=str(n), leg_id=f"{n}", kind=kind, offered_at=at,
                   department=department, outcome=outcome, missed_cause=cause,
                   answered_at=at + timedelta(seconds=wait) if wait is not None else None,
                   ended_at=at + timedelta(seconds=60))


def test_indicators_count_as_the_shared_definitions() -> None:
    charter = load_charter()
    legs = [_leg(1, 3.0, Outcome.ANSWERED), _leg(2, 10.0, Outcome.ANSWERED),
            _leg(3, 10.5, Outcome.ANSWERED), _leg(4, None, Outcome.MISSED,
                                                  cause=MissedCause.ABANDONED),
            _leg(5, None, Outcome.MISSED, cause=MissedCause.NO_AGENTS),
            _leg(6, None, Outcome.RETURNED, kind=LegKind.TRANSFER, department="Kewangan"),
            _leg(7, None, Outcome.IN_PROGRESS)]
    tally = IndicatorTally(charter)
    tally.add_legs(legs[:4])
    tally.add_legs(legs[4:])
    period = parse_quarter("2026Q3", charter.timezone)
    frame = tally.frame(period.months())
    july = frame[(frame["month"] == "2026-07") & (frame["department"] == ALL_DEPARTMENTS)]
    row = july.iloc[0]
    shared = answer_rate(legs, within_seconds=10.0)
    assert (row["offered"], row["answered"], row["answered_within_standard"]) == (
        shared.offered, shared.answered, shared.answered_within) == (6, 3, 2)
    assert row["answer_rate"] == pytest.approx(2 / 6)
    assert (row["missed"], row["missed_abandoned"], row["missed_no_agents"]) == (2, 1, 1)
    assert (row["transfers"], row["transfers_returned"]) == (1, 1)


def _status(n: int, interval: float | None, *, queue: str = "", department: str = ""
            ) -> StatusAnnouncement:
    at = datetime(2026, 7, 6, 1, 0, tzinfo=UTC) + timedelta(seconds=20 * n)
    return StatusAnnouncement(pbx="p", event_id=f"s{n}", call_id="c", uniqueid="u",
                              department=department, officer="2201" if department else "",
                              announced_at=at, position=1, waited_seconds=20.0 * n,
                              interval_seconds=interval, queue=queue)


def test_front_desk_status_messages_are_the_front_desk_rows_compliance() -> None:
    charter = load_charter()
    tally = IndicatorTally(charter)
    for n, interval in enumerate((None, 20.001, 19.999, 22.0)):  # the last: a phone rang
        tally.add_status_announcement(_status(n, interval, queue="frontdesk"))
    for n, interval in enumerate((None, 20.0)):
        tally.add_status_announcement(_status(10 + n, interval, department="Perlesenan"))
    frame = tally.frame(parse_quarter("2026Q3", charter.timezone).months())
    quarter = frame[frame["month"] == QUARTER].set_index("department")
    assert (quarter.loc["", "status_messages"], quarter.loc["", "status_kept"]) == (3, 2)
    assert quarter.loc["", "status_rate"] == pytest.approx(2 / 3)
    assert (quarter.loc["Perlesenan", "status_messages"],
            quarter.loc["Perlesenan", "status_kept"]) == (1, 1)
    assert quarter.loc[ALL_DEPARTMENTS, "status_messages"] == 4


def test_the_generated_quarter_has_front_desk_status_messages(report: QuarterReport) -> None:
    front_desk = report.indicators[(report.indicators["month"] == QUARTER)
                                   & (report.indicators["department"] == "")].iloc[0]
    assert front_desk["status_messages"] > 0
    assert 0 < front_desk["status_rate"] < 1


def test_xlsx_opens_with_openpyxl(report: QuarterReport, tmp_path: Path) -> None:
    out = tmp_path / "report.xlsx"
    write_report(report, "xlsx", out)
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Ringkasan Summary", "Jadual 1", "Jadual 2", "Carta Charts",
                               "Log eksport Export log"]
    summary = "\n".join(str(c.value) for c in book["Ringkasan Summary"]["A"] if c.value)
    assert "Charter version 2026.1" in summary
    assert "Versi piagam 2026.1" in summary
    headers = [c.value for c in book["Jadual 1"][1]]
    assert "Kadar jawab 10 saat / 10-second answer rate" in headers
    assert len(book["Carta Charts"]._images) == 3


def test_html_and_pdf_render(report: QuarterReport, tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    write_report(report, "html", html)
    text = html.read_text()
    for needle in ("Julai / July 2026", "Ogos / August 2026", "September / September 2026",
                   "2026.1", "<svg", "Log eksport"):
        assert needle in text
    pdf = tmp_path / "report.pdf"
    write_report(report, "pdf", pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    assert shutil.which("pdftoppm"), "poppler-utils (pdftoppm) is installed by make setup"
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(pdf),
                    str(tmp_path / "page")], check=True)
    page = next(tmp_path.glob("page*.png"))
    assert page.stat().st_size > 10_000


def test_report_is_logged_and_lists_exports(source: ReportStore, generated: tuple,
                                            tmp_path: Path) -> None:
    _, charter, period = generated
    out = tmp_path / "r.html"
    report_and_log(source, charter, period, "html", out)
    again = build_report(source, charter, period)
    assert any(e.kind == "report" and e.path == str(out.resolve()) for e in again.export_log)
    assert str(out.resolve()) in write_and_read_html(again, tmp_path)


def write_and_read_html(report: QuarterReport, folder: Path) -> str:
    out = folder / "again.html"
    write_report(report, "html", out)
    return out.read_text()


def test_a_quarter_without_calls_is_an_error(source: ReportStore, generated: tuple) -> None:
    _, charter, _ = generated
    with pytest.raises(ReportError, match="no calls in 2025Q1"):
        build_report(source, charter, parse_quarter("2025Q1", charter.timezone))


@pytest.mark.usefixtures("permissive_umask")
@pytest.mark.parametrize("fmt", ["xlsx", "html"])
def test_report_files_are_owner_only_whatever_the_umask(report: QuarterReport, tmp_path: Path,
                                                        fmt: str) -> None:
    out = tmp_path / f"report.{fmt}"
    write_report(report, fmt, out)  # type: ignore[arg-type]
    assert out.stat().st_mode & 0o777 == 0o600


def test_the_report_is_logged_before_its_file_appears(
        source: ReportStore, generated: tuple, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from monitor.reports import destination

    _, charter, period = generated
    out = tmp_path / "r.html"

    def killed(src: object, dst: object) -> None:
        raise KeyboardInterrupt  # the process dies where the file would appear

    monkeypatch.setattr(destination.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        report_and_log(source, charter, period, "html", out)
    assert not out.exists()
    assert [e.kind for e in source.export_log(period) if e.path == str(out.resolve())] == [
        "report"]


def test_every_report_states_the_export_log_head(source: ReportStore, generated: tuple,
                                                 tmp_path: Path) -> None:
    """A kept report names the newest log entry: a log truncated later no longer reaches it."""
    _, charter, period = generated
    report_and_log(source, charter, period, "html", tmp_path / "first.html")
    head = source.export_log_head()
    assert head is not None
    again = build_report(source, charter, period)
    assert again.export_log_head == head
    assert f"Export log: newest entry #{head.seq}, SHA-256 {head.entry_hash}." in (
        write_and_read_html(again, tmp_path))


def test_every_report_states_the_retention_period(report: QuarterReport, tmp_path: Path) -> None:
    html = tmp_path / "r.html"
    write_report(report, "html", html)
    assert "Call records are kept 730 days, then purged (PDPA 2010)." in html.read_text()
    xlsx = tmp_path / "r.xlsx"
    write_report(report, "xlsx", xlsx)
    summary = [str(c.value) for c in openpyxl.load_workbook(xlsx)["Ringkasan Summary"]["A"]]
    assert any("Call records are kept 730 days" in line for line in summary)
