"""Service recovery: today's missed customer calls, one line per caller, to ring back.

Definitions (docs/architecture.md):
- A call is missed when its last leg is missed (the caller gave up, the queue timed out, a
  transfer came back and the caller hung up...): the whole call was never served. A call that
  ended in a message is the callbacks' (T-h), not this list's.
- One line per caller number, however often they tried: the count of missed calls and the
  last try. A number that is withheld or not dialable gets no line; the list counts them.
- A line is done when the help desk recorded a ring-back after the caller's last missed try
  with a final outcome; "no answer" keeps it on the list to try again.
- A caller who got through later (a later call today that a person answered) is marked so on
  their own, whether or not anybody rang them back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from monitor.core.records import CallLeg, Outcome


class RingBackOutcome(StrEnum):
    """What the help desk found when they rang back; bounded."""

    REACHED = "reached"  # spoke to the caller
    NO_ANSWER = "no_answer"  # nobody answered: the line stays, to try again
    LEFT_MESSAGE = "left_message"  # left a message on the caller's phone
    WRONG_NUMBER = "wrong_number"


FINAL_OUTCOMES = frozenset({RingBackOutcome.REACHED, RingBackOutcome.LEFT_MESSAGE,
                            RingBackOutcome.WRONG_NUMBER})


class LineState(StrEnum):
    TO_RING_BACK = "to_ring_back"
    TRIED = "tried"  # rung back, no answer
    DONE = "done"
    GOT_THROUGH = "got_through"  # the caller called again and was answered


@dataclass(frozen=True)
class RingBack:
    """One ring-back the help desk recorded."""

    pbx: str
    ring_back_id: str
    caller_number: str
    rung_at: datetime
    outcome: RingBackOutcome
    rung_by: str  # the console account
    note: str = ""


@dataclass(frozen=True)
class RingBackLine:
    """One caller's missed calls today and what has been done about them."""

    caller_number: str
    caller_name: str
    missed_calls: int
    first_try: datetime
    last_try: datetime
    state: LineState
    got_through_at: datetime | None = None
    last_ring_back: RingBack | None = None


_DIALABLE = re.compile(r"\+?[0-9]{3,20}")
_ORDER = {LineState.TO_RING_BACK: 0, LineState.TRIED: 1, LineState.GOT_THROUGH: 2,
          LineState.DONE: 3}


def dialable(number: str) -> bool:
    """A number the help desk can ring: digits (3 to 20), optionally after a +."""
    return bool(_DIALABLE.fullmatch(number.strip()))


def _calls(legs: Iterable[CallLeg]) -> list[list[CallLeg]]:
    by_call: dict[str, list[CallLeg]] = {}
    for leg in legs:
        by_call.setdefault(leg.call_id, []).append(leg)
    return [sorted(call, key=lambda leg: leg.offered_at) for call in by_call.values()]


def ring_back_lines(legs: Iterable[CallLeg], ring_backs: Iterable[RingBack]
                    ) -> tuple[list[RingBackLine], int]:
    """The lines of the legs' missed calls (to ring back first, the longest waiting first),
    and how many missed calls had no dialable number."""
    missed: dict[str, list[list[CallLeg]]] = {}
    answered: dict[str, list[datetime]] = {}
    withheld = 0
    for call in _calls(legs):
        number = call[0].caller_number.strip()
        if call[-1].outcome is Outcome.MISSED:
            if dialable(number):
                missed.setdefault(number, []).append(call)
            else:
                withheld += 1
        elif any(leg.answered_at is not None for leg in call):
            answered.setdefault(number, []).append(call[0].offered_at)
    rung: dict[str, list[RingBack]] = {}
    for ring_back in ring_backs:
        rung.setdefault(ring_back.caller_number, []).append(ring_back)
    lines = [_line(number, calls, answered.get(number, []), rung.get(number, []))
             for number, calls in missed.items()]
    lines.sort(key=lambda line: (_ORDER[line.state], line.last_try))
    return lines, withheld


def _line(number: str, calls: list[list[CallLeg]], answered: list[datetime],
          rung: list[RingBack]) -> RingBackLine:
    starts = sorted(call[0].offered_at for call in calls)
    name = next((leg.caller_name for call in reversed(calls) for leg in call
                 if leg.caller_name), "")
    later = [at for at in answered if at > starts[-1]]
    last = max(rung, key=lambda r: r.rung_at, default=None)
    if later:
        state = LineState.GOT_THROUGH
    elif last is None or last.rung_at < starts[-1]:
        state = LineState.TO_RING_BACK
    else:
        state = LineState.DONE if last.outcome in FINAL_OUTCOMES else LineState.TRIED
    return RingBackLine(caller_number=number, caller_name=name, missed_calls=len(calls),
                        first_try=starts[0], last_try=starts[-1], state=state,
                        got_through_at=min(later) if later else None, last_ring_back=last)
