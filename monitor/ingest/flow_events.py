"""Call-flow events from the AGI scripts (MQTT, schema 1, /work/events-contract.md), checked.

The monitor reads only what it needs and keeps the original JSON for audit; a payload that is
not a schema-1 event raises `FlowEventError` naming the field.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

SCHEMA = 1
TYPES = frozenset({"transfer_announced", "status_announced", "transfer_returned",
                   "caller_choice", "voicemail_left", "callback_created", "callback_closed",
                   "officer_status_changed"})


class FlowEventError(ValueError):
    """Not a valid schema-1 call-flow event."""


@dataclass(frozen=True)
class FlowEvent:
    event_id: str
    type: str
    pbx: str
    timestamp: datetime
    call_id: str
    uniqueid: str
    department: str
    officer: str
    fields: dict[str, Any]  # the whole payload, for the type-specific fields
    payload: str

    def text(self, name: str) -> str:
        value = self.fields.get(name)
        if not isinstance(value, str):
            raise FlowEventError(f"{self.type}: {name} must be a string")
        return value

    def number(self, name: str, *, optional: bool = False) -> float | None:
        value = self.fields.get(name)
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise FlowEventError(f"{self.type}: {name} must be a number")
        if not math.isfinite(value) or abs(value) > 1e9:
            raise FlowEventError(f"{self.type}: {name} {value!r} is out of range")
        return float(value)

    def time(self, name: str, *, optional: bool = False) -> datetime | None:
        value = self.fields.get(name)
        if value is None and optional:
            return None
        return _time(name, value)


def _time(name: str, value: object) -> datetime:
    if not isinstance(value, str):
        raise FlowEventError(f"{name} must be an ISO 8601 string")
    try:
        at = datetime.fromisoformat(value)
    except ValueError as exc:
        raise FlowEventError(f"{name}: {value[:40]!r} is not ISO 8601") from exc
    if at.tzinfo is None:
        raise FlowEventError(f"{name}: {value[:40]!r} has no zone offset")
    return at


def parse_flow_event(payload: bytes | str) -> FlowEvent:
    try:
        text = payload.decode("utf-8") if isinstance(payload, bytes) else payload
        body = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise FlowEventError(f"not UTF-8 JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise FlowEventError("payload must be a JSON object")
    if body.get("schema") != SCHEMA:
        raise FlowEventError(f"schema {body.get('schema')!r} is not {SCHEMA}")
    if not isinstance(body.get("type"), str) or body["type"] not in TYPES:
        raise FlowEventError(f"type {str(body.get('type'))[:40]!r} is not a known event type")
    strings = {}
    for name in ("event_id", "pbx", "call_id", "uniqueid", "department", "officer"):
        value = body.get(name, "" if name in ("department", "officer") else None)
        if not isinstance(value, str) or (name == "event_id" and not value):
            raise FlowEventError(f"{name} must be a string")
        strings[name] = value
    return FlowEvent(type=body["type"], timestamp=_time("timestamp", body.get("timestamp")),
                     fields=body, payload=text, **strings)
