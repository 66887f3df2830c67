"""Call-flow events on MQTT (schema 1, docs/events.md): typed, built here, checked on parse."""

from __future__ import annotations

import json
import types
import uuid
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, ClassVar, Union, get_args, get_origin, get_type_hints

SCHEMA = 1
TOPIC_PREFIX = "callsla"


class EventSchemaError(ValueError):
    """A payload is not a valid schema-1 event; the message names the field."""


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
        if self.timestamp.tzinfo is None:
            raise EventSchemaError("timestamp: must carry a time zone")
        if not self.pbx or "/" in self.pbx or "+" in self.pbx or "#" in self.pbx:
            raise EventSchemaError(f"pbx: {self.pbx!r} cannot be part of an MQTT topic")

    @property
    def topic(self) -> str:
        return f"{TOPIC_PREFIX}/{self.pbx}/events/{self.type}"

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


def parse_event(payload: bytes | str | dict[str, Any]) -> CallEvent:
    """Check a payload against schema 1 and return the typed event; unknown keys are ignored."""
    if isinstance(payload, bytes | str):
        try:
            payload = json.loads(payload)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise EventSchemaError(f"not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise EventSchemaError("payload must be a JSON object")
    if payload.get("schema") != SCHEMA:
        raise EventSchemaError(f"schema: {payload.get('schema')!r} is not {SCHEMA}")
    cls = EVENT_TYPES.get(str(payload.get("type")))
    if cls is None:
        raise EventSchemaError(f"type: {payload.get('type')!r} is not a known event type")
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
    if hint is datetime:
        try:
            return datetime.fromisoformat(str(value))
        except ValueError as exc:
            raise EventSchemaError(f"{name}: {value!r} is not an ISO 8601 time") from exc
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if hint is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if hint is str and isinstance(value, str):
        return value
    raise EventSchemaError(f"{name}: {value!r} is not a {getattr(hint, '__name__', hint)}")
