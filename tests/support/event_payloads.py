"""Call-flow event payloads for tests: one valid sample per type, and hypothesis strategies for
arbitrary and nearly valid JSON payloads (the bounds of `monitor.core.events` probed)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from monitor.core import events

MYT = timezone(timedelta(hours=8))
AT = datetime(2026, 11, 24, 10, 0, 20, 4000, tzinfo=MYT)
CALL = dict(pbx="p", timestamp=AT, call_id="1763950000.12", uniqueid="1763950000.12",
            department="finance", officer="2101")
EXTRA: dict[str, dict[str, object]] = {
    "transfer_announced": dict(officer_name="Encik Ahmad", language="ms"),
    "status_announced": dict(position=2, waited_seconds=40.0, interval_seconds=20.0),
    "transfer_returned": dict(ring_seconds=20.1),
    "caller_choice": dict(choice="1", where="waiting"),
    "voicemail_left": dict(mailbox="2101", message_id="callsla/2101/INBOX/msg0000",
                           duration_seconds=12.5),
    "callback_created": dict(callback_id="cb-fuzz", caller_number="0312345678",
                             caller_name="Puan Aminah", matter="voicemail msg0000",
                             due_at=AT + timedelta(hours=24)),
    "callback_closed": dict(callback_id="cb-fuzz", action_taken="called back",
                            done_at=AT + timedelta(hours=1), caller_informed_at=None),
    "officer_status_changed": dict(status="out"),
}


def sample_event(event_type: str, **change: object) -> events.CallEvent:
    """A valid event of `event_type` (every type of `EVENT_TYPES` has one)."""
    return events.EVENT_TYPES[event_type](**{**CALL, **EXTRA[event_type], **change})  # type: ignore[arg-type]


def _offset(minutes: int) -> timezone:
    return timezone(timedelta(minutes=minutes))


# Times at and far past the schema's bounds, with offsets up to a day either way: a time near
# year 1 or 9999 overflows when moved to UTC (the bug this guards against).
times = st.one_of(
    st.sampled_from(["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
                     "1999-12-31T23:59:59+00:00", "2100-01-01T00:00:00+00:00",
                     "2026-11-24T10:00:00", "2026-11-24", "2026-13-01T00:00:00+08:00"]),
    st.builds(lambda at, minutes: at.replace(tzinfo=_offset(minutes)).isoformat(),
              st.datetimes(), st.integers(-23 * 60 - 59, 23 * 60 + 59)))
numbers = st.one_of(st.integers(), st.floats(), st.sampled_from(
    [-1, 0, 10**6 + 1, 2**63, 10**30, 1e9, 1e10, -0.0, 1e308]))
texts = st.one_of(st.text(max_size=30), st.sampled_from(
    ["", "\ud800", "a\x00b", "x" * 1001, "callsla/p/events/#", "a+b"]))
scalars = st.one_of(st.none(), st.booleans(), numbers, texts, times)
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=6)


def _mutated(event_type: str, changes: list[tuple[str, bool, Any]]) -> bytes:
    body = sample_event(event_type).to_payload()
    for key, drop, value in changes:
        if drop:
            body.pop(key, None)
        else:
            body[key] = value
    return json.dumps(body).encode()  # NaN and Infinity as Python writes them


keys = st.sampled_from(sorted({"schema", "type", "event_id", "pbx", "timestamp", "call_id",
                               "uniqueid", "department", "officer", "unknown"}
                              | {k for extra in EXTRA.values() for k in extra}))
nearly_valid = st.builds(_mutated, st.sampled_from(sorted(events.EVENT_TYPES)),
                         st.lists(st.tuples(keys, st.booleans(), json_values), max_size=3))
# One field of a valid sample set to an edge of its own kind: most cases get past the rest.
_TIME_FIELDS = [(t, k) for t, extra in EXTRA.items()
                for k in ("timestamp", *(k for k, v in extra.items() if isinstance(v, datetime)))]
_NUMBER_FIELDS = [(t, k) for t, extra in EXTRA.items()
                  for k, v in extra.items() if isinstance(v, int | float)]
_TEXT_FIELDS = [(t, k) for t in EXTRA for k in ("pbx", "event_id", "call_id", "department")]
edges = st.one_of(
    st.builds(lambda tk, v: _mutated(tk[0], [(tk[1], False, v)]), st.sampled_from(_TIME_FIELDS),
              times),
    st.builds(lambda tk, v: _mutated(tk[0], [(tk[1], False, v)]),
              st.sampled_from(_NUMBER_FIELDS), numbers),
    st.builds(lambda tk, v: _mutated(tk[0], [(tk[1], False, v)]), st.sampled_from(_TEXT_FIELDS),
              texts))
raw = st.one_of(
    st.binary(max_size=80),
    st.builds(lambda v: json.dumps(v).encode(), json_values),
    st.sampled_from([b"[" * 100_000, b'{"schema": 1, "position": 1' + b"0" * 5000 + b"}",
                     b'{"schema": true, "type": "caller_choice"}', "\ufeff{}".encode(),
                     json.dumps({"x": 1}).encode("utf-16")]))
payloads = st.one_of(nearly_valid, edges, raw)
