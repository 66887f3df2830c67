"""Person rings in the store: their rows, and the tallies a restart and the report read.

A ring belongs to its leg: the report takes the rings of the legs offered in its period (the
same legs as its other figures) and names each ring's queue or department from that leg.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from monitor.core.records import PersonRing, RingResult
from monitor.store._dialect import Dialect

RING_COLUMNS = ("pbx", "leg_id", "ring_id", "person", "result", "ended_at",
                "answer_wait_seconds")
_RESULTS = {r.value: r for r in RingResult}


@dataclass(frozen=True)
class PersonRingTally:
    """Rings of one person for legs of one queue (front desk) or department (officers)."""

    queue: str
    department: str
    person: str
    result: RingResult
    count: int
    answered_within: int  # answered rings whose leg was answered within the threshold


def ring_row(d: Dialect, ring: PersonRing) -> tuple[object, ...]:
    return (ring.pbx, ring.leg_id, ring.ring_id, ring.person, ring.result.value,
            d.time_param(ring.ended_at), ring.answer_wait_seconds)


def ring_from_row(d: Dialect, row: Sequence[Any]) -> PersonRing:
    pbx, leg_id, ring_id, person, result, ended_at, wait = row
    ended = d.time_value(ended_at)
    assert ended is not None
    return PersonRing(pbx=pbx, leg_id=leg_id, ring_id=ring_id, person=person,
                      result=_RESULTS[result], ended_at=ended,
                      answer_wait_seconds=None if wait is None else float(wait))


def rows_of(d: Dialect, rings: Iterable[PersonRing]) -> list[tuple[object, ...]]:
    return [ring_row(d, ring) for ring in rings]


TALLY_SQL = ("SELECT person, result, COUNT(*) FROM person_rings WHERE pbx = ?"
             " GROUP BY person, result")


def figures_sql(*, pbx: bool) -> str:
    """Rings per (queue, department, person, result) of legs offered in [?, ?); the first
    parameter is the answer threshold in seconds (answer wait <= it, as the `le` bucket)."""
    where = "l.offered_at >= ? AND l.offered_at < ?" + (" AND l.pbx = ?" if pbx else "")
    return ("SELECT l.queue, l.department, r.person, r.result, COUNT(*),"
            " SUM(CASE WHEN r.result = 'answered' AND r.answer_wait_seconds <= ?"
            " THEN 1 ELSE 0 END)"
            " FROM person_rings r JOIN call_legs l ON l.pbx = r.pbx AND l.leg_id = r.leg_id"
            f" WHERE {where} GROUP BY l.queue, l.department, r.person, r.result"
            " ORDER BY l.queue, l.department, r.person, r.result")


def tally_of(row: Sequence[Any]) -> PersonRingTally:
    queue, department, person, result, count, within = row
    return PersonRingTally(str(queue), str(department), str(person), _RESULTS[result],
                           int(count), int(within or 0))

