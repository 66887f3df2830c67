"""The callback register (help-desk record a-f, charter T-h): list and show callbacks.

Closing one is `monitor.ingest.callback_closing.close_callback`, the same for every caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from monitor.core.records import Callback, CallbackStatus
from monitor.core.terminal_text import for_terminal
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


def _local(at: datetime | None, zone: ZoneInfo) -> str:
    return at.astimezone(zone).isoformat(timespec="minutes") if at else "-"


def format_register(lines: list[RegisterLine], zone: ZoneInfo) -> str:
    """One line per callback, widest first columns; the help desk reads it in a terminal, so
    control characters from caller data are shown escaped."""
    header = ("ID", "STATE", "MESSAGE LEFT", "DUE", "CALLER", "NUMBER", "DEPARTMENT", "OFFICER")
    rows = [header] + [tuple(for_terminal(str(v)) for v in (
        line.callback.callback_id, line.state, _local(line.callback.contacted_at, zone),
        _local(line.callback.due_at, zone), line.callback.caller_name,
        line.callback.caller_number, line.callback.department, line.callback.officer))
        for line in lines]
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
                     for row in rows)


def format_callback(callback: Callback, zone: ZoneInfo, now: datetime | None = None) -> str:
    """The help desk's record, (a) to (f), control characters shown escaped."""
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
    return "\n".join(f"{name.ljust(width)}  {for_terminal(value)}" for name, value in fields)
