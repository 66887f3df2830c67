"""The report's per-person table (Jadual 2): figures from the stored rings, in HTML and xlsx."""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest

from lab.synthetic_quarter import generate_quarter
from monitor.core.charter import load_charter
from monitor.core.records import CallLeg, LegKind, Outcome, PersonRing, RingResult
from monitor.reports.periods import parse_quarter
from monitor.reports.person_figures import person_frame
from monitor.reports.quarter import QuarterReport
from monitor.reports.report import build_report, write_report
from monitor.reports.report_store import ReportStore
from monitor.store import open_store
from tests.support.report_data import CALLS, QUARTER, generated_store

T0 = datetime(2026, 8, 3, 1, 0, tzinfo=UTC)  # inside 2026Q3 in Kuala Lumpur


def _leg(n: int, wait: float | None, *, queue: str = "frontdesk", department: str = "",
         pbx: str = "p") -> CallLeg:
    at = T0 + timedelta(minutes=n)
    kind = LegKind.FRONT_DESK if queue else LegKind.TRANSFER
    return CallLeg(pbx=pbx, call_id=f"c{n}", leg_id=f"l{n}", kind=kind, offered_at=at,
                   queue=queue, department=department,
                   outcome=Outcome.ANSWERED if wait is not None else Outcome.MISSED,
                   answered_at=None if wait is None else at + timedelta(seconds=wait),
                   ended_at=at + timedelta(seconds=60))


def _ring(leg: CallLeg, n: int, person: str, result: RingResult) -> PersonRing:
    wait = leg.answer_wait_seconds if result is RingResult.ANSWERED else None
    return PersonRing(pbx=leg.pbx, leg_id=leg.leg_id, ring_id=str(n), person=person,
                      result=result, ended_at=leg.offered_at + timedelta(seconds=1),
                      answer_wait_seconds=wait)


@pytest.fixture
def small(tmp_path: Path) -> QuarterReport:
    """Two receptionists, an officer, one ring nobody names; one leg of another PBX."""
    legs = [_leg(1, 3.0), _leg(2, 12.0), _leg(3, None), _leg(4, 10.0, queue="",
                                                            department="finance"),
            _leg(5, 4.0, queue="", department=""), _leg(6, 2.0, pbx="other-pbx")]
    rings = [_ring(legs[0], 1, "Reception 101", RingResult.ANSWERED),
             _ring(legs[0], 2, "Reception 102", RingResult.ANSWERED_ELSEWHERE),
             _ring(legs[1], 3, "Reception 101", RingResult.NOT_ANSWERED),
             _ring(legs[1], 4, "Reception 102", RingResult.ANSWERED),
             _ring(legs[2], 5, "Reception 101", RingResult.NOT_ANSWERED),
             _ring(legs[2], 6, "Reception 102", RingResult.NOT_ANSWERED),
             _ring(legs[3], 7, "2101", RingResult.ANSWERED),  # exactly 10 s: within
             _ring(legs[4], 8, "other", RingResult.ANSWERED),
             _ring(legs[5], 9, "Reception 101", RingResult.ANSWERED)]
    charter = load_charter()
    with open_store(f"sqlite:///{tmp_path}/p.db") as store:
        store.save_legs(legs)
        store.save_rings(rings)
        return build_report(ReportStore(store, pbx="p"), charter,
                            parse_quarter(QUARTER, charter.timezone))


def test_per_person_figures_count_each_ring_of_the_periods_legs(small: QuarterReport) -> None:
    rows = [tuple(None if isinstance(v, float) and math.isnan(v) else v for v in row)
            for row in small.persons.itertuples(index=False)]
    assert rows == [
        # kind, group, person, rung, answered, not answered, elsewhere, within, share
        ("queue", "frontdesk", "Reception 101", 3, 1, 2, 0, 1, 1.0),
        ("queue", "frontdesk", "Reception 102", 3, 1, 1, 1, 0, 0.0),
        ("department", "", "other", 1, 1, 0, 0, 1, 1.0),
        ("department", "finance", "2101", 1, 1, 0, 0, 1, 1.0),
    ]


def test_jadual_2_renders_in_both_languages(small: QuarterReport, tmp_path: Path) -> None:
    html = tmp_path / "r.html"
    write_report(small, "html", html)
    text = html.read_text()
    for needle in ("Jadual 2: Setiap petugas kaunter dan pegawai", "Per receptionist and officer",
                   "Petugas kaunter, giliran frontdesk / Receptionists, queue frontdesk",
                   "Pegawai, bahagian finance / Officers, department finance",
                   "Berdering, tidak dijawab / Rung, not answered",
                   "<td class=\"name\">Reception 102</td><td>3</td><td>1</td><td>1</td>"
                   "<td>1</td><td>0</td><td>0.0%</td>"):
        assert needle in text
    out = tmp_path / "r.xlsx"
    write_report(small, "xlsx", out)
    sheet = openpyxl.load_workbook(out)["Jadual 2"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:4] == ["Giliran / bahagian / Queue / department",
                             "Petugas / pegawai / Receptionist / officer",
                             "Deringan / Rings", "Dijawab / Answered"]
    assert values[1] == ["Petugas kaunter, giliran frontdesk / Receptionists, queue frontdesk",
                         "Reception 101", 3, 1, 2, 0, 1, 1.0]
    assert sheet.cell(2, 8).number_format == "0.0%"


def test_no_rings_is_said_not_hidden(tmp_path: Path) -> None:
    charter = load_charter()
    with open_store(f"sqlite:///{tmp_path}/none.db") as store:
        store.save_legs([_leg(1, 3.0)])
        report = build_report(ReportStore(store), charter,
                              parse_quarter(QUARTER, charter.timezone))
    assert report.persons.empty
    html = tmp_path / "r.html"
    write_report(report, "html", html)
    assert "No rings recorded" in html.read_text()


def test_a_generated_quarter_gives_the_rings_it_generated(tmp_path: Path) -> None:
    url, charter, period = generated_store(tmp_path)
    want: Counter[tuple[str, str, str]] = Counter()
    legs: dict[str, CallLeg] = {}
    for batch in generate_quarter(period, charter, calls=CALLS, batch_calls=1000):
        legs.update((leg.leg_id, leg) for leg in batch.legs)
        for ring in batch.rings:
            leg = legs[ring.leg_id]
            group = leg.queue or leg.department
            want[(group, ring.person, ring.result.value)] += 1
            if ring.result is RingResult.ANSWERED and (ring.answer_wait_seconds or 0) <= 10:
                want[(group, ring.person, "within")] += 1
    with open_store(url) as store:
        frame = person_frame(ReportStore(store).person_rings(period, within_seconds=10))
    got: Counter[tuple[str, str, str]] = Counter()
    for row in frame.itertuples(index=False):
        for column, result in (("person_answered", "answered"),
                               ("person_not_answered", "not_answered"),
                               ("person_answered_elsewhere", "answered_elsewhere"),
                               ("person_within", "within")):
            if getattr(row, column):
                got[(row.group, row.person, result)] = getattr(row, column)
    assert got == want
    assert {row.person for row in frame.itertuples()} >= {"r1", "r2"}
