"""The charter's measures as pure functions of call records, shared by /metrics and reports.

docs/architecture.md, kept exactly:
- Every leg in the store is an offered leg (a queue entry, a transfer or a direct ring).
- Answer wait: from when the leg starts waiting/ringing to when a person answers.
- Answered within N s: answer wait <= N (the same rule as Prometheus' `le` bucket).
- 10-second answer rate: answered within 10 s ÷ offered. Abandoned, timed-out, no-agent and
  returned legs stay in the denominator; abandons shorter than the charter's short-abandon
  threshold leave it only when that threshold is > 0 (reports state it).
- Missed: offered, never answered by a person; its cause is one of `MissedCause`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from monitor.core.records import CallLeg, MissedCause, Outcome


def answered_within(leg: CallLeg, seconds: float) -> bool:
    wait = leg.answer_wait_seconds
    return wait is not None and wait <= seconds


def missed_cause(leg: CallLeg) -> MissedCause | None:
    """The cause if the leg is missed, else None (answered, returned, voicemail, in progress)."""
    if leg.outcome is not Outcome.MISSED:
        return None
    return leg.missed_cause or MissedCause.OTHER


def is_short_abandon(leg: CallLeg, short_abandon_seconds: float) -> bool:
    if short_abandon_seconds <= 0 or missed_cause(leg) is not MissedCause.ABANDONED:
        return False
    if leg.ended_at is None:
        return False
    return (leg.ended_at - leg.offered_at).total_seconds() < short_abandon_seconds


@dataclass(frozen=True)
class AnswerRate:
    """The counts behind the rate, so a report can show its working."""

    offered: int
    answered: int
    answered_within: int
    short_abandons_excluded: int

    @property
    def rate(self) -> float | None:
        """Answered within N s ÷ offered; None when nothing was offered."""
        return self.answered_within / self.offered if self.offered else None

    @property
    def service_level(self) -> float | None:
        """Answered within N s ÷ answered: Asterisk's `ServicelevelPerf` (as a fraction)."""
        return self.answered_within / self.answered if self.answered else None


def answer_rate(legs: Iterable[CallLeg], *, within_seconds: float,
                short_abandon_seconds: float = 0.0,
                include_in_progress: bool = False) -> AnswerRate:
    """The N-second answer rate over some legs; in-progress legs are left out unless asked."""
    offered = answered = within = excluded = 0
    for leg in legs:
        if leg.outcome is Outcome.IN_PROGRESS and not include_in_progress:
            continue
        if is_short_abandon(leg, short_abandon_seconds):
            excluded += 1
            continue
        offered += 1
        if leg.answered_at is not None:
            answered += 1
            within += answered_within(leg, within_seconds)
    return AnswerRate(offered, answered, within, excluded)


def whole_call_wait_seconds(legs: Iterable[CallLeg]) -> float | None:
    """Whole-call view: from the call's first offer (arrival) to its first human answer, over
    every leg of one call; None if no person ever answered."""
    ordered = sorted(legs, key=lambda leg: leg.offered_at)
    if not ordered:
        return None
    if len({leg.call_id for leg in ordered}) > 1:
        raise ValueError("legs of more than one call")
    answers = [leg.answered_at for leg in ordered if leg.answered_at is not None]
    if not answers:
        return None
    return (min(answers) - ordered[0].offered_at).total_seconds()


# -- The same measures over columns, for exports of millions of legs. Each equals its per-leg
# function above element by element (tests/unit/monitor/core/test_definitions.py checks them
# on generated legs).

def answered_within_column(wait_seconds: NDArray[np.float64],
                           seconds: float) -> NDArray[np.bool_]:
    """`answered_within` per leg; a wait of NaN is a leg nobody answered."""
    with np.errstate(invalid="ignore"):
        return np.asarray(wait_seconds <= seconds, dtype=bool)


def missed_cause_column(outcome: NDArray[np.object_],
                        cause: NDArray[np.object_]) -> NDArray[np.object_]:
    """`missed_cause(...).value` per leg, "" where it is None; `cause` None/"" = no cause."""
    missed = outcome == Outcome.MISSED.value
    known = cause.astype(bool)  # None and "" are false
    return np.where(missed, np.where(known, cause, MissedCause.OTHER.value), "").astype(object)


def short_abandon_column(missed_causes: NDArray[np.object_], lasted_seconds: NDArray[np.float64],
                         short_abandon_seconds: float) -> NDArray[np.bool_]:
    """`is_short_abandon` per leg, from `missed_cause_column` and ended - offered in seconds
    (NaN for a leg not ended)."""
    if short_abandon_seconds <= 0:
        return np.zeros(len(missed_causes), dtype=bool)
    with np.errstate(invalid="ignore"):
        short = lasted_seconds < short_abandon_seconds
    return np.asarray((missed_causes == MissedCause.ABANDONED.value) & short, dtype=bool)
