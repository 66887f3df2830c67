"""The per-call export: each call's legs rolled up into one row (the whole-call view).

Legs arrive in offered order, chunk by chunk; a call is complete once no leg of it was offered
within `settle_seconds` of the newest leg read, so a call is never split across chunks.
Whole-call answer wait (docs/architecture.md): from arrival at the front desk to the first
human answer, as `monitor.core.definitions.whole_call_wait_seconds` computes it, judged with
the same `<=` rule as `answered_within`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from monitor.core.charter import Charter
from monitor.core.definitions import missed_cause, whole_call_wait_seconds
from monitor.core.records import CallLeg, LegKind, Outcome
from monitor.reports.columns import CALL_COLUMN_NAMES, CALL_COLUMNS
from monitor.reports.frames import time_series

SETTLE_SECONDS = 6 * 3600.0  # no call's legs span longer than this


class CallRollup:
    """Collects legs by call and releases the calls that can have no more legs."""

    def __init__(self, *, settle_seconds: float = SETTLE_SECONDS) -> None:
        self._open: dict[str, list[CallLeg]] = {}
        self._settle = settle_seconds

    def add(self, legs: Sequence[CallLeg]) -> list[list[CallLeg]]:
        for leg in legs:
            self._open.setdefault(leg.call_id, []).append(leg)
        if not legs:
            return []
        newest = max(leg.offered_at for leg in legs)
        done = [call_id for call_id, call in self._open.items()
                if (newest - call[-1].offered_at).total_seconds() > self._settle]
        return [self._open.pop(call_id) for call_id in done]

    def finish(self) -> list[list[CallLeg]]:
        calls, self._open = list(self._open.values()), {}
        return calls


def _row(call: list[CallLeg], charter: Charter, callback_ids: Mapping[str, str]) -> dict[str,
                                                                                      object]:
    first, last = call[0], call[-1]
    answers = [leg.answered_at for leg in call if leg.answered_at is not None]
    first_answer = min(answers) if answers else None
    wait = whole_call_wait_seconds(call)
    officers = [leg for leg in call if leg.kind in (LegKind.TRANSFER, LegKind.DIRECT)]
    ends = [leg.ended_at for leg in call if leg.ended_at is not None]
    cause = missed_cause(last)
    return {
        "pbx": first.pbx, "call_id": first.call_id, "queue": first.queue,
        "department": officers[-1].department if officers else "",
        "officer": officers[-1].officer if officers else "",
        "caller_number": first.caller_number, "caller_name": first.caller_name,
        "arrived_at": first.offered_at, "first_answered_at": first_answer,
        "ended_at": max(ends) if ends else None, "wait_to_first_answer_seconds": wait,
        "answered_within_standard": wait is not None and wait <= charter.answer_within_seconds,
        "legs": len(call), "transfers": sum(leg.kind is LegKind.TRANSFER for leg in call),
        "returned": sum(leg.outcome is Outcome.RETURNED for leg in call),
        "voicemail": any(leg.voicemail for leg in call),
        "final_outcome": last.outcome.value, "missed_cause": cause.value if cause else "",
        "callback_id": callback_ids.get(first.call_id, ""),
    }


def calls_frame(calls: Sequence[list[CallLeg]], charter: Charter,
                callback_ids: Mapping[str, str] | None = None) -> pd.DataFrame:
    rows = [_row(sorted(call, key=lambda leg: leg.offered_at), charter, callback_ids or {})
            for call in calls]
    frame = pd.DataFrame(rows, columns=list(CALL_COLUMN_NAMES))
    for column in CALL_COLUMNS:
        if column.kind == "time":
            frame[column.name] = time_series(list(frame[column.name]), charter.timezone)
        elif column.kind == "text":
            frame[column.name] = frame[column.name].astype("string")
        elif column.kind == "bool":
            frame[column.name] = frame[column.name].astype("bool")
        elif column.kind == "count":
            frame[column.name] = frame[column.name].astype("int64")
        else:
            frame[column.name] = frame[column.name].astype("Float64")
    return frame.sort_values(["arrived_at", "call_id"], ignore_index=True)
