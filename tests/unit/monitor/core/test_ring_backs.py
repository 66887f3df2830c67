"""The ring-back list's rules: one line per caller, missed = the call's last leg missed, done
only with a final outcome after the last try, got through on its own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.core.records import CallLeg, LegKind, MissedCause, Outcome
from monitor.core.ring_backs import (
    LineState,
    RingBack,
    RingBackOutcome,
    dialable,
    ring_back_lines,
)

T0 = datetime(2026, 8, 3, 1, 0, tzinfo=UTC)


def leg(call: str, minute: float, number: str, outcome: Outcome, *,
        kind: LegKind = LegKind.FRONT_DESK, name: str = "") -> CallLeg:
    at = T0 + timedelta(minutes=minute)
    return CallLeg(pbx="hq", call_id=call, leg_id=f"{call}-{minute}", kind=kind, offered_at=at,
                   caller_number=number, caller_name=name, queue="frontdesk",
                   outcome=outcome, answered_at=at + timedelta(seconds=5)
                   if outcome is Outcome.ANSWERED else None,
                   missed_cause=MissedCause.ABANDONED if outcome is Outcome.MISSED else None)


def rung(number: str, minute: float, outcome: RingBackOutcome) -> RingBack:
    return RingBack(pbx="hq", ring_back_id=f"rb-{number}-{minute}", caller_number=number,
                    rung_at=T0 + timedelta(minutes=minute), outcome=outcome, rung_by="siti")


def test_a_caller_who_tried_three_times_is_one_line_with_the_count_and_last_try() -> None:
    legs = [leg("c1", 0, "0123456789", Outcome.MISSED, name="Aminah"),
            leg("c2", 5, "0123456789", Outcome.MISSED),
            leg("c3", 9, "0123456789", Outcome.MISSED),
            leg("c4", 2, "0198765432", Outcome.MISSED)]
    lines, withheld = ring_back_lines(legs, [])
    assert [(line.caller_number, line.missed_calls) for line in lines] == [
        ("0198765432", 1), ("0123456789", 3)]  # the longest waiting first
    three = lines[1]
    assert (three.first_try, three.last_try) == (T0, T0 + timedelta(minutes=9))
    assert three.caller_name == "Aminah"
    assert three.state is LineState.TO_RING_BACK
    assert withheld == 0


def test_a_call_is_missed_when_its_last_leg_is_missed() -> None:
    returned_then_gone = [
        leg("c1", 0, "0111111111", Outcome.ANSWERED),
        leg("c1", 1, "0111111111", Outcome.RETURNED, kind=LegKind.TRANSFER),
        leg("c1", 2, "0111111111", Outcome.MISSED, kind=LegKind.RETURNED)]
    served = [leg("c2", 0, "0122222222", Outcome.MISSED, kind=LegKind.TRANSFER),
              leg("c2", 1, "0122222222", Outcome.ANSWERED, kind=LegKind.RETURNED)]
    message = [leg("c3", 0, "0133333333", Outcome.VOICEMAIL, kind=LegKind.TRANSFER)]
    waiting = [leg("c4", 0, "0144444444", Outcome.IN_PROGRESS)]
    lines, _ = ring_back_lines([*returned_then_gone, *served, *message, *waiting], [])
    assert [line.caller_number for line in lines] == ["0111111111"]


def test_a_caller_who_got_through_later_is_marked_so() -> None:
    legs = [leg("c1", 0, "0123456789", Outcome.MISSED),
            leg("c2", 4, "0123456789", Outcome.ANSWERED),
            leg("c3", 1, "0155555555", Outcome.ANSWERED),  # answered before the miss: no
            leg("c4", 2, "0155555555", Outcome.MISSED)]
    lines, _ = ring_back_lines(legs, [])
    states = {line.caller_number: line.state for line in lines}
    assert states == {"0123456789": LineState.GOT_THROUGH, "0155555555": LineState.TO_RING_BACK}
    [through] = [line for line in lines if line.state is LineState.GOT_THROUGH]
    assert through.got_through_at == T0 + timedelta(minutes=4)
    assert lines[-1] is through  # after the ones still to ring back


def test_done_needs_a_final_outcome_after_the_last_try() -> None:
    legs = [leg(f"c{n}", n, number, Outcome.MISSED)
            for n, number in enumerate(("0100000001", "0100000002", "0100000003"))]
    legs.append(leg("c9", 10, "0100000003", Outcome.MISSED))  # tried again after the ring-back
    ring_backs = [rung("0100000001", 5, RingBackOutcome.REACHED),
                  rung("0100000002", 5, RingBackOutcome.NO_ANSWER),
                  rung("0100000003", 5, RingBackOutcome.REACHED)]
    lines, _ = ring_back_lines(legs, ring_backs)
    states = {line.caller_number: line.state for line in lines}
    assert states == {"0100000001": LineState.DONE, "0100000002": LineState.TRIED,
                      "0100000003": LineState.TO_RING_BACK}
    [again] = [line for line in lines if line.caller_number == "0100000003"]
    assert again.last_ring_back == ring_backs[2]  # shown, but it came before the last try


def test_withheld_and_undialable_numbers_are_counted_not_listed() -> None:
    legs = [leg("c1", 0, "", Outcome.MISSED), leg("c2", 1, "anonymous", Outcome.MISSED),
            leg("c3", 2, "+60123456789", Outcome.MISSED)]
    lines, withheld = ring_back_lines(legs, [])
    assert [line.caller_number for line in lines] == ["+60123456789"]
    assert withheld == 2
    assert [dialable(n) for n in (" 0123 ", "12", "01-23")] == [True, False, False]
