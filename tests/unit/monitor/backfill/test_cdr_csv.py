"""CDR CSV backfill: Dial records become transfer and direct legs with the live feed's ids."""

from __future__ import annotations

import contextlib
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.backfill.cdr_csv import CdrError, CdrReader, parse_cdr_line
from monitor.core.records import LegKind, MissedCause, Outcome

CAPTURE = Path(__file__).parents[3] / "data" / "cdr_master_direct.csv"  # the lab's Asterisk 22


def test_direct_calls_from_a_captured_master_csv(tmp_path: Path) -> None:
    path = tmp_path / "Master.csv"
    shutil.copy(CAPTURE, path)
    window, offset = CdrReader(path, pbx="lab").read(0)
    assert offset == path.stat().st_size
    assert (window.lines, window.bad_lines) == (7, 0)
    legs = {leg.officer: leg for leg in window.legs.values()}
    assert set(legs) == {"r2", "r3"}
    answered, unanswered = legs["r2"], legs["r3"]
    assert answered.leg_id == "1795487780.1>Local/r2@lab-phones-00000002;1"
    assert answered.kind is LegKind.DIRECT
    assert answered.answer_wait_seconds == 3.0
    assert answered.offered_at == datetime(2026, 11, 24, 2, 36, 20, tzinfo=UTC)
    assert (unanswered.outcome, unanswered.missed_cause) == (Outcome.MISSED, MissedCause.TIMEOUT)
    assert CdrReader(path, pbx="lab").read(offset)[0].lines == 0


def cdr(uniqueid: str, app: str, start: str, end: str, *, dst: str = "", answer: str = "",
        disposition: str = "NO ANSWER", data: str = "") -> str:
    return ",".join(f'"{v}"' for v in (
        "", "0312", "s", "ctx", "caller", "PJSIP/trunk-1", dst, app, data,
        f"2026-03-02 09:{start}", f"2026-03-02 09:{answer}" if answer else "",
        f"2026-03-02 09:{end}", "20", "0", disposition, "DOCUMENTATION", uniqueid, ""))


@pytest.mark.parametrize(("after", "outcome"), [
    ("Queue", Outcome.RETURNED), ("VoiceMail", Outcome.VOICEMAIL), ("Hangup", Outcome.MISSED)])
def test_an_unanswered_transfer_is_returned_voicemail_or_missed(
        tmp_path: Path, after: str, outcome: Outcome) -> None:
    path = tmp_path / "Master.csv"
    path.write_text("\n".join([
        cdr("9.1", "Queue", "00:00", "00:30", dst="Local/r1@lab-phones-1;1",
            answer="00:03", disposition="ANSWERED"),
        cdr("9.1", "Dial", "00:00", "00:50", dst="PJSIP/2001-0000002a", data="PJSIP/2001,20"),
        cdr("9.1", after, "00:50", "01:10"),
    ]) + "\n")
    legs = list(CdrReader(path, pbx="p").read(0)[0].legs.values())
    assert [(leg.kind, leg.officer, leg.outcome) for leg in legs] == [
        (LegKind.TRANSFER, "2001", outcome)]
    if outcome is Outcome.MISSED:
        assert legs[0].missed_cause is MissedCause.TRANSFER_UNANSWERED


def test_a_line_without_uniqueid_is_refused() -> None:
    with pytest.raises(CdrError, match="loguniqueid"):
        parse_cdr_line('"","1","2","c","x","A","B","Dial","","2026-03-02 09:00:00","",'
                       '"2026-03-02 09:00:05","5","0","NO ANSWER","DOCUMENTATION"')


@settings(deadline=None)
@given(st.lists(st.one_of(st.text(max_size=40), st.just("")), max_size=20).map(",".join))
def test_random_cdr_lines_parse_or_raise_cdr_error(line: str) -> None:
    with contextlib.suppress(CdrError):
        parse_cdr_line(line)
