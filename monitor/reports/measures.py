"""Per-leg judgements the report and the export share (placeholder until monitor's land)."""

from __future__ import annotations

from monitor.charter import Charter
from monitor.records import CallLeg, MissedCause, Outcome


def answered_within_standard(leg: CallLeg, charter: Charter) -> bool:
    wait = leg.answer_wait_seconds
    return wait is not None and wait <= charter.answer_within_seconds


def counts_as_offered(leg: CallLeg, charter: Charter) -> bool:
    """Every leg counts, except abandons shorter than a configured short-abandon threshold."""
    if charter.short_abandon_seconds <= 0 or leg.missed_cause is not MissedCause.ABANDONED:
        return True
    if leg.ended_at is None:
        return True
    return (leg.ended_at - leg.offered_at).total_seconds() >= charter.short_abandon_seconds


def missed_cause(leg: CallLeg) -> MissedCause | None:
    return leg.missed_cause if leg.outcome is Outcome.MISSED else None
