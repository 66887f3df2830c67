"""The charter's measures over records: answered within N s, missed cause, the answer rate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.definitions import answer_rate, answered_within, is_short_abandon, missed_cause
from monitor.records import CallLeg, LegKind, MissedCause, Outcome

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
