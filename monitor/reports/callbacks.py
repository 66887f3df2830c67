"""The callback register (help-desk record a-f, charter T-h): list, show and close callbacks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from monitor.core.records import Callback, CallbackStatus
from monitor.reports.errors import ReportError
from monitor.store import Store

RegisterFilter = Literal["open", "overdue", "closed", "all"]
FILTERS: tuple[RegisterFilter, ...] = ("open", "overdue", "closed", "all")


@dataclass(frozen=True)
class RegisterLine:
    callback: Callback
    state: str  # open | overdue | closed | closed late


def state_of(callback: Callback, now: datetime) -> str:
    if callback.status is CallbackStatus.CLOSED:
        done = callback.done_at
        return "closed late" if done is not None and done > callback.due_at else "closed"
    return "overdue" if callback.due_at < now else "open"


def register(store: Store, *, which: RegisterFilter = "open", department: str | None = None,
             pbx: str | None = None, now: datetime | None = None) -> list[RegisterLine]:
    """Callbacks in contact order; `open` includes the overdue ones."""
    if which not in FILTERS:
        raise ReportError(f"--status {which!r} must be one of {', '.join(FILTERS)}")
    now = now or datetime.now(UTC)
    status = {"open": CallbackStatus.OPEN, "overdue": CallbackStatus.OPEN,
              "closed": CallbackStatus.CLOSED, "all": None}[which]
    lines = [RegisterLine(cb, state_of(cb, now))
             for cb in store.callbacks(pbx=pbx, status=status, department=department)]
    return [line for line in lines if which != "overdue" or line.state == "overdue"]


def find_callback(store: Store, callback_id: str, *, pbx: str | None = None) -> Callback:
    found = [cb for cb in store.callbacks(pbx=pbx) if cb.callback_id == callback_id]
    if not found:
        raise ReportError(f"no callback {callback_id!r}"
                          + (f" on pbx {pbx!r}" if pbx else ""))
    if len(found) > 1:
        raise ReportError(f"callback {callback_id!r} exists on several PBXs; give --pbx")
    return found[0]


def close(store: Store, callback_id: str, *, action_taken: str, done_at: datetime | None = None,
          caller_informed_at: datetime | None = None, pbx: str | None = None) -> Callback:
    """Record (e) the action and (f) when it was done and the caller told; action required."""
    action = action_taken.strip()
    if not action:
        raise ReportError("closing a callback needs --action TEXT: what was done for the caller")
    callback = find_callback(store, callback_id, pbx=pbx)
    if callback.status is CallbackStatus.CLOSED:
        raise ReportError(f"callback {callback_id!r} was already closed "
                          f"({callback.done_at.isoformat() if callback.done_at else '-'})")
    done = done_at or datetime.now(UTC)
    if done.tzinfo is None:
        raise ReportError("--done-at needs a time zone offset, e.g. 2026-08-03T10:15+08:00")
    if done < callback.contacted_at:
        raise ReportError(f"--done-at {done.isoformat()} is before the message was left "
                          f"({callback.contacted_at.isoformat()})")
    return store.close_callback(callback.pbx, callback.callback_id, action_taken=action,
                                done_at=done, caller_informed_at=caller_informed_at)


def _local(at: datetime | None, zone: ZoneInfo) -> str:
    return at.astimezone(zone).isoformat(timespec="minutes") if at else "-"


def format_register(lines: list[RegisterLine], zone: ZoneInfo) -> str:
    """One line per callback, widest first columns; the help desk reads it in a terminal."""
    header = ("ID", "STATE", "MESSAGE LEFT", "DUE", "CALLER", "NUMBER", "DEPARTMENT", "OFFICER")
    rows = [header] + [(
        line.callback.callback_id, line.state, _local(line.callback.contacted_at, zone),
        _local(line.callback.due_at, zone), line.callback.caller_name,
        line.callback.caller_number, line.callback.department, line.callback.officer)
        for line in lines]
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
                     for row in rows)


def format_callback(callback: Callback, zone: ZoneInfo, now: datetime | None = None) -> str:
    """The help desk's record, (a) to (f)."""
    now = now or datetime.now(UTC)
    fields = (
        ("Callback", callback.callback_id),
        ("State", state_of(callback, now)),
        ("(a) Caller name", callback.caller_name or "-"),
        ("(b) Message left", _local(callback.contacted_at, zone)),
        ("(c) Number", callback.caller_number or "-"),
        ("(d) Matter / message", callback.matter or "-"),
        ("    Call", f"{callback.call_id} (pbx {callback.pbx})"),
        ("    For", f"{callback.officer} ({callback.department})"),
        ("    Due", _local(callback.due_at, zone)),
        ("(e) Action taken", callback.action_taken or "-"),
        ("(f) Done", _local(callback.done_at, zone)),
        ("(f) Caller informed", _local(callback.caller_informed_at, zone)),
    )
    width = max(len(name) for name, _ in fields)
    return "\n".join(f"{name.ljust(width)}  {value}" for name, value in fields)
