"""Records to rows and back: the column lists and their conversions, in one place."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from monitor.core.records import (
    Callback,
    CallbackStatus,
    CallLeg,
    LegKind,
    MissedCause,
    Outcome,
    StatusAnnouncement,
)
from monitor.store._dialect import Dialect

LEG_COLUMNS = ("pbx", "leg_id", "call_id", "uniqueid", "kind", "offered_at", "caller_number",
               "caller_name", "queue", "department", "officer", "answered_at", "ended_at",
               "answered_by", "outcome", "missed_cause", "returned_from", "voicemail", "source",
               "answer_wait_seconds", "updated_at")
CALLBACK_COLUMNS = ("pbx", "callback_id", "call_id", "officer", "department", "caller_name",
                    "contacted_at", "caller_number", "matter", "due_at", "action_taken",
                    "done_at", "caller_informed_at", "status", "updated_at")
ANNOUNCEMENT_COLUMNS = ("pbx", "event_id", "call_id", "uniqueid", "department", "officer",
                        "announced_at", "position", "waited_seconds", "interval_seconds", "queue")


def upsert_sql(table: str, columns: Sequence[str], key: Sequence[str]) -> str:
    """One INSERT .. ON CONFLICT DO UPDATE text that SQLite (>= 3.24) and PostgreSQL both run."""
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
    marks = ", ".join("?" for _ in columns)
    return (f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) "
            f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}")


def leg_row(d: Dialect, leg: CallLeg) -> tuple[object, ...]:
    t = d.time_param
    return (leg.pbx, leg.leg_id, leg.call_id, leg.uniqueid, leg.kind.value, t(leg.offered_at),
            leg.caller_number, leg.caller_name, leg.queue, leg.department, leg.officer,
            t(leg.answered_at), t(leg.ended_at), leg.answered_by, leg.outcome.value,
            leg.missed_cause.value if leg.missed_cause else None, leg.returned_from,
            int(leg.voicemail), leg.source, leg.answer_wait_seconds, t(datetime.now(UTC)))


_KINDS = {k.value: k for k in LegKind}
_OUTCOMES = {o.value: o for o in Outcome}
_CAUSES = {c.value: c for c in MissedCause}


def _enum(values: dict[str, Any], value: object, name: str) -> Any:
    try:
        return values[value]  # type: ignore[index]
    except KeyError:
        raise ValueError(f"{value!r} is not a valid {name}") from None


def leg_from_row(d: Dialect, row: Sequence[Any]) -> CallLeg:
    """By position, enums by dict lookup: a report reads millions of these."""
    (pbx, leg_id, call_id, uniqueid, kind, offered_at, caller_number, caller_name, queue,
     department, officer, answered_at, ended_at, answered_by, outcome, cause, returned_from,
     voicemail, source, _wait, _updated) = row
    offered = d.time_value(offered_at)
    assert offered is not None
    return CallLeg(
        pbx=pbx, call_id=call_id, leg_id=leg_id, kind=_enum(_KINDS, kind, "LegKind"),
        offered_at=offered, caller_number=caller_number, caller_name=caller_name,
        queue=queue, department=department, officer=officer,
        answered_at=d.time_value(answered_at), ended_at=d.time_value(ended_at),
        answered_by=answered_by, outcome=_enum(_OUTCOMES, outcome, "Outcome"),
        missed_cause=_enum(_CAUSES, cause, "MissedCause") if cause else None,
        returned_from=returned_from, voicemail=bool(voicemail), source=source,
        uniqueid=uniqueid,
    )


def callback_row(d: Dialect, cb: Callback) -> tuple[object, ...]:
    t = d.time_param
    return (cb.pbx, cb.callback_id, cb.call_id, cb.officer, cb.department, cb.caller_name,
            t(cb.contacted_at), cb.caller_number, cb.matter, t(cb.due_at), cb.action_taken,
            t(cb.done_at), t(cb.caller_informed_at), cb.status.value, t(datetime.now(UTC)))


def callback_from_row(d: Dialect, row: Sequence[Any]) -> Callback:
    v = dict(zip(CALLBACK_COLUMNS, row, strict=True))
    contacted, due = d.time_value(v["contacted_at"]), d.time_value(v["due_at"])
    assert contacted is not None
    assert due is not None
    return Callback(
        pbx=v["pbx"], callback_id=v["callback_id"], call_id=v["call_id"], officer=v["officer"],
        department=v["department"], caller_name=v["caller_name"], contacted_at=contacted,
        caller_number=v["caller_number"], matter=v["matter"], due_at=due,
        action_taken=v["action_taken"], done_at=d.time_value(v["done_at"]),
        caller_informed_at=d.time_value(v["caller_informed_at"]),
        status=CallbackStatus(v["status"]),
    )


def announcement_row(d: Dialect, a: StatusAnnouncement) -> tuple[object, ...]:
    return (a.pbx, a.event_id, a.call_id, a.uniqueid, a.department, a.officer,
            d.time_param(a.announced_at), a.position, a.waited_seconds, a.interval_seconds,
            a.queue)


def announcement_from_row(d: Dialect, row: Sequence[Any]) -> StatusAnnouncement:
    v = dict(zip(ANNOUNCEMENT_COLUMNS, row, strict=True))
    at = d.time_value(v["announced_at"])
    assert at is not None
    return StatusAnnouncement(
        pbx=v["pbx"], event_id=v["event_id"], call_id=v["call_id"], uniqueid=v["uniqueid"],
        department=v["department"], officer=v["officer"], announced_at=at,
        position=int(v["position"]), waited_seconds=float(v["waited_seconds"]),
        interval_seconds=None if v["interval_seconds"] is None else float(v["interval_seconds"]),
        queue=v["queue"],
    )
