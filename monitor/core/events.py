"""Call-flow events on MQTT (schema 1, docs/events.md): typed, built here, checked on parse."""

from __future__ import annotations

import json
import math
import types
import uuid
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, ClassVar, Union, get_args, get_origin, get_type_hints

SCHEMA = 1
TOPIC_PREFIX = "callsla"

# Bounds every field is checked against, whoever builds the event: a value outside them is
# refused where it enters, never met later (an ancient time overflowing `astimezone(UTC)`,
# an integer too large for the database, a text a log line cannot hold).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
MAX_SECONDS = 1e9  # durations (waited, interval, ring, message length)
MAX_COUNT = 1_000_000  # queue positions
MAX_TEXT = 1000  # characters of any text field


class EventSchemaError(ValueError):
    """A payload is not a valid schema-1 event; the message names the field."""


def topic(pbx: str, event_type: str) -> str:
    """The MQTT topic an event of `event_type` from `pbx` is published on."""
    return f"{TOPIC_PREFIX}/{pbx}/events/{event_type}"


def subscription(pbx: str = "+") -> str:
    """The topic filter for every event of `pbx` (default: of every PBX)."""
    return topic(pbx, "#")


@dataclass(frozen=True, kw_only=True)
class CallEvent:
    """Fields every event carries. `call_id` is the caller's Linkedid, `uniqueid` its Uniqueid."""

    type: ClassVar[str] = ""
    pbx: str
    timestamp: datetime
    call_id: str
    uniqueid: str
    department: str = ""
    officer: str = ""
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def __post_init__(self) -> None:
        for f in fields(self):
            _check(f.name, getattr(self, f.name))
        if not self.pbx or "/" in self.pbx or "+" in self.pbx or "#" in self.pbx:
            raise EventSchemaError(f"pbx: {_shown(self.pbx)} cannot be part of an MQTT topic")
        if not self.event_id:
            raise EventSchemaError("event_id: must not be empty")

    @property
    def topic(self) -> str:
        return topic(self.pbx, self.type)

    def to_payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"schema": SCHEMA, "type": self.type}
        for f in fields(self):
            value = getattr(self, f.name)
            body[f.name] = value.isoformat() if isinstance(value, datetime) else value
        return body

    def to_json(self) -> bytes:
        return json.dumps(self.to_payload(), ensure_ascii=False, sort_keys=True).encode()


@dataclass(frozen=True, kw_only=True)
class TransferAnnounced(CallEvent):
    type: ClassVar[str] = "transfer_announced"
    officer_name: str
    language: str


@dataclass(frozen=True, kw_only=True)
class StatusAnnounced(CallEvent):
    type: ClassVar[str] = "status_announced"
    position: int
    waited_seconds: float
    interval_seconds: float | None


@dataclass(frozen=True, kw_only=True)
class TransferReturned(CallEvent):
    type: ClassVar[str] = "transfer_returned"
    ring_seconds: float


@dataclass(frozen=True, kw_only=True)
class CallerChoice(CallEvent):
    type: ClassVar[str] = "caller_choice"
    choice: str  # "1" leave a message, "0" back to the front desk
    where: str  # e.g. "waiting", "out_of_office"


@dataclass(frozen=True, kw_only=True)
class VoicemailLeft(CallEvent):
    type: ClassVar[str] = "voicemail_left"
    mailbox: str
    message_id: str
    duration_seconds: float


@dataclass(frozen=True, kw_only=True)
class CallbackCreated(CallEvent):
    type: ClassVar[str] = "callback_created"
    callback_id: str
    caller_number: str
    caller_name: str
    matter: str
    due_at: datetime


@dataclass(frozen=True, kw_only=True)
class CallbackClosed(CallEvent):
    type: ClassVar[str] = "callback_closed"
    callback_id: str
    action_taken: str
    done_at: datetime
    caller_informed_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class OfficerStatusChanged(CallEvent):
    type: ClassVar[str] = "officer_status_changed"
    status: str  # "in" | "out" | "leave"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.status not in ("in", "out", "leave"):
            raise EventSchemaError(f"status: {self.status!r} is not in, out or leave")


EVENT_TYPES: dict[str, type[CallEvent]] = {
    cls.type: cls
    for cls in (TransferAnnounced, StatusAnnounced, TransferReturned, CallerChoice,
                VoicemailLeft, CallbackCreated, CallbackClosed, OfficerStatusChanged)
}


def payload_text(payload: bytes | str) -> str:
    """A message's payload as text (UTF-8), as the monitor keeps it for audit."""
    if isinstance(payload, str):
        return payload
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EventSchemaError(f"not UTF-8: {exc}") from exc


def parse_event(payload: bytes | str | dict[str, Any]) -> CallEvent:
    """Check a payload against schema 1 and return the typed event; unknown keys are ignored.

    Every way a payload can be wrong raises `EventSchemaError`, and nothing else.
    """
    if isinstance(payload, bytes | str):
        try:
            payload = json.loads(payload_text(payload))
        except (ValueError, RecursionError) as exc:  # ValueError: also over-long integers
            raise EventSchemaError(f"not JSON: {str(exc)[:80]}") from exc
    if not isinstance(payload, dict):
        raise EventSchemaError("payload must be a JSON object")
    if payload.get("schema") != SCHEMA or isinstance(payload.get("schema"), bool):
        raise EventSchemaError(f"schema: {_shown(payload.get('schema'))} is not {SCHEMA}")
    kind = payload.get("type")
    cls = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise EventSchemaError(f"type: {_shown(kind)} is not a known event type")
    hints = get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in payload:
            if f.name in ("department", "officer"):
                continue
            raise EventSchemaError(f"{f.name}: missing")
        values[f.name] = _coerce(f.name, hints[f.name], payload[f.name])
    return cls(**values)


def _coerce(name: str, hint: Any, value: Any) -> Any:
    if get_origin(hint) in (Union, types.UnionType):
        if value is None and type(None) in get_args(hint):
            return None
        (hint,) = [arg for arg in get_args(hint) if arg is not type(None)]
    if hint is datetime and isinstance(value, str) and len(value) <= 64:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
        raise EventSchemaError(f"{name}: {_shown(value)} is not an ISO 8601 time")
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            pass
        raise EventSchemaError(f"{name}: {_shown(value)} is out of range")
    if hint is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if hint is str and isinstance(value, str):
        return value
    raise EventSchemaError(f"{name}: {_shown(value)} is not a {getattr(hint, '__name__', hint)}")


def _check(name: str, value: object) -> None:
    """Refuse what a consumer could not store, convert or show (see the bounds above)."""
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise EventSchemaError(f"{name}: must carry a time zone")
        try:
            utc = value.astimezone(UTC)
        except OverflowError:
            utc = None
        if utc is None or not EARLIEST <= utc < LATEST:
            raise EventSchemaError(f"{name}: {value.isoformat()} is not between "
                                   f"{EARLIEST.year} and {LATEST.year}")
    elif isinstance(value, float):
        if not (math.isfinite(value) and 0.0 <= value <= MAX_SECONDS):
            raise EventSchemaError(f"{name}: {value!r} seconds is out of range")
    elif isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value <= MAX_COUNT:
            raise EventSchemaError(f"{name}: {_shown(value)} is out of range")
    elif isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise EventSchemaError(f"{name}: longer than {MAX_TEXT} characters")
        if "\x00" in value or not _encodable(value):
            raise EventSchemaError(f"{name}: not storable text (NUL or lone surrogate)")


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shown(value: object) -> str:
    """A value for an error message: an attacker's megabyte never reaches a log line whole."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."
