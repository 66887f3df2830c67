"""Ring-backs in the store (schema version 8): the help desk's record of each missed caller
rung back, with the outcome; rows are never changed, so the list's history stays."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from monitor.core.ring_backs import RingBack, RingBackOutcome
from monitor.store._dialect import Dialect

RING_BACK_COLUMNS = ("pbx", "ring_back_id", "caller_number", "rung_at", "outcome", "rung_by",
                     "note")
RING_BACK_SELECT = f"SELECT {', '.join(RING_BACK_COLUMNS)} FROM ring_backs"
INSERT_RING_BACK = (f"INSERT INTO ring_backs ({', '.join(RING_BACK_COLUMNS)}) VALUES "
                    f"({', '.join('?' for _ in RING_BACK_COLUMNS)})"
                    " ON CONFLICT (pbx, ring_back_id) DO NOTHING")


def ring_back_row(d: Dialect, ring_back: RingBack) -> tuple[object, ...]:
    return (ring_back.pbx, ring_back.ring_back_id, ring_back.caller_number,
            d.time_param(ring_back.rung_at), ring_back.outcome.value, ring_back.rung_by,
            ring_back.note)


def ring_back_from_row(d: Dialect, row: Sequence[Any]) -> RingBack:
    pbx, ring_back_id, number, rung_at, outcome, rung_by, note = row
    at = d.time_value(rung_at)
    assert at is not None
    return RingBack(pbx=pbx, ring_back_id=ring_back_id, caller_number=number, rung_at=at,
                    outcome=RingBackOutcome(outcome), rung_by=rung_by, note=note)
