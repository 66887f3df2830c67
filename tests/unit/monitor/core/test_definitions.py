"""The charter's measures over records: answered within N s, missed cause, the answer rate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from monitor.core.definitions import (
    answer_rate,
    answered_within,
    answered_within_column,
    is_short_abandon,
    missed_cause,
    missed_cause_column,
    short_abandon_column,
    whole_call_wait_seconds,
)
from monitor.core.records import CallLeg, LegKind, MissedCause, Outcome
from tests.support.leg_samples import varied_legs

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def leg(n: int, *, wait: float | None = None, cause: MissedCause | None = None,
        ended_after: float = 30.0, outcome: Outcome | None = None) -> CallLeg:
    made = CallLeg(pbx="p", call_id=f"c{n}", leg_id=f"l{n}", kind=LegKind.FRONT_DESK,
                   offered_at=T0, queue="frontdesk", ended_at=T0 + timedelta(seconds=ended_after))
    if wait is not None:
        made.answered_at, made.outcome = T0 + timedelta(seconds=wait), Outcome.ANSWERED
    if cause is not None:
        made.outcome, made.missed_cause = Outcome.MISSED, cause
    if outcome is not None:
        made.outcome = outcome
    return made


def test_answered_within_includes_the_threshold_itself() -> None:
    assert answered_within(leg(1, wait=10.0), 10)
    assert not answered_within(leg(1, wait=10.001), 10)
    assert not answered_within(leg(1, cause=MissedCause.ABANDONED), 10)


def test_missed_cause_only_for_missed_legs() -> None:
    assert missed_cause(leg(1, cause=MissedCause.TIMEOUT)) is MissedCause.TIMEOUT
    assert missed_cause(leg(1, wait=3)) is None
    assert missed_cause(leg(1, outcome=Outcome.RETURNED)) is None


def test_the_rate_keeps_abandons_and_returns_in_the_denominator() -> None:
    legs = [leg(1, wait=3), leg(2, wait=12), leg(3, wait=1.5), leg(4, wait=7),
            leg(5, cause=MissedCause.ABANDONED, ended_after=5),
            leg(6, cause=MissedCause.ABANDONED, ended_after=14),
            leg(7, outcome=Outcome.RETURNED), leg(8, outcome=Outcome.IN_PROGRESS)]
    rate = answer_rate(legs, within_seconds=10)
    assert (rate.offered, rate.answered, rate.answered_within) == (7, 4, 3)
    assert rate.rate == pytest.approx(3 / 7)
    assert rate.service_level == pytest.approx(0.75)


def test_short_abandons_leave_the_denominator_only_when_configured() -> None:
    legs = [leg(1, wait=3), leg(2, cause=MissedCause.ABANDONED, ended_after=2)]
    assert answer_rate(legs, within_seconds=10).offered == 2
    configured = answer_rate(legs, within_seconds=10, short_abandon_seconds=5)
    assert (configured.offered, configured.short_abandons_excluded) == (1, 1)
    assert not is_short_abandon(leg(3, cause=MissedCause.TIMEOUT, ended_after=1), 5)


def test_no_offered_calls_has_no_rate() -> None:
    assert answer_rate([], within_seconds=10).rate is None


def test_whole_call_wait_runs_from_arrival_to_the_first_answer() -> None:
    front = leg(1, wait=4)
    transfer = leg(2, outcome=Outcome.RETURNED)
    transfer.offered_at = T0 + timedelta(seconds=30)
    back = leg(3, wait=2)
    back.offered_at = T0 + timedelta(seconds=50)
    back.answered_at = back.offered_at + timedelta(seconds=2)
    for part in (front, transfer, back):
        part.call_id = "c1"
    assert whole_call_wait_seconds([back, transfer, front]) == 4
    front.answered_at, front.outcome = None, Outcome.MISSED
    assert whole_call_wait_seconds([front, transfer, back]) == 52
    assert whole_call_wait_seconds([]) is None
    with pytest.raises(ValueError, match="more than one call"):
        whole_call_wait_seconds([leg(1), leg(2)])


def _column_inputs(legs: list[CallLeg]) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                 np.ndarray]:
    waits = np.array([np.nan if (w := x.answer_wait_seconds) is None else w for x in legs])
    lasted = np.array([np.nan if x.ended_at is None
                       else (x.ended_at - x.offered_at).total_seconds() for x in legs])
    outcomes = np.array([x.outcome.value for x in legs], dtype=object)
    causes = np.array([x.missed_cause.value if x.missed_cause else None for x in legs],
                      dtype=object)
    return waits, lasted, outcomes, causes


@pytest.mark.parametrize("seconds", [10.0, 0.0, 5.0, 4.999999, 9.999999])
def test_column_definitions_equal_the_per_leg_ones(seconds: float) -> None:
    legs = varied_legs(3000)
    waits, lasted, outcomes, causes = _column_inputs(legs)
    assert answered_within_column(waits, seconds).tolist() == [
        answered_within(x, seconds) for x in legs]
    found = missed_cause_column(outcomes, causes)
    assert found.tolist() == [c.value if (c := missed_cause(x)) else "" for x in legs]
    assert short_abandon_column(found, lasted, seconds).tolist() == [
        is_short_abandon(x, seconds) for x in legs]


def test_column_definitions_on_the_edges() -> None:
    edge = [leg(1, wait=10.0), leg(2, wait=10.001), leg(3, cause=MissedCause.ABANDONED),
            leg(4, outcome=Outcome.MISSED), leg(5, cause=MissedCause.ABANDONED, ended_after=5),
            leg(6, cause=MissedCause.ABANDONED, ended_after=4.999999),
            leg(7, outcome=Outcome.RETURNED), leg(8, outcome=Outcome.IN_PROGRESS)]
    edge[5].ended_at = None
    waits, lasted, outcomes, causes = _column_inputs(edge)
    assert answered_within_column(waits, 10).tolist() == [True] + [False] * 7
    found = missed_cause_column(outcomes, causes)
    assert found.tolist() == ["", "", "abandoned", "other", "abandoned", "abandoned", "", ""]
    assert short_abandon_column(found, lasted, 5).tolist() == [False] * 8
    assert short_abandon_column(found, lasted, 5.1).tolist() == [False] * 4 + [True] + [
        False] * 3
    assert missed_cause_column(np.array(["missed"], dtype=object),
                               np.array([""], dtype=object)).tolist() == ["other"]
