"""Events round-trip through JSON and bad payloads are refused with the field named."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from monitor.core.events import (
    CallbackClosed,
    EventSchemaError,
    OfficerStatusChanged,
    StatusAnnounced,
    parse_event,
)

MYT = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 24, 10, 0, 0, tzinfo=MYT)


def _status(**extra: object) -> StatusAnnounced:
    base: dict[str, object] = dict(pbx="hq", timestamp=NOW, call_id="1.1", uniqueid="1.2",
                                   department="finance", officer="2101", position=2,
                                   waited_seconds=40.0, interval_seconds=20.0)
    base.update(extra)
    return StatusAnnounced(**base)  # type: ignore[arg-type]


def test_round_trip_keeps_every_field() -> None:
    event = _status()
    payload = json.loads(event.to_json())
    assert payload["schema"] == 1
    assert payload["type"] == "status_announced"
    assert payload["timestamp"] == "2026-11-24T10:00:00+08:00"
    assert event.topic == "callsla/hq/events/status_announced"
    assert parse_event(event.to_json()) == event


def test_nullable_times_round_trip() -> None:
    closed = CallbackClosed(pbx="hq", timestamp=NOW, call_id="", uniqueid="", callback_id="c1",
                            action_taken="called back", done_at=NOW, caller_informed_at=None)
    assert parse_event(closed.to_payload()) == closed
    assert parse_event(_status(interval_seconds=None).to_json()).interval_seconds is None  # type: ignore[attr-defined]


def test_event_ids_are_unique() -> None:
    assert _status().event_id != _status().event_id


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"schema": 2}, "schema"),
        ({"type": "nope"}, "type"),
        ({"position": "2"}, "position"),
        ({"position": True}, "position"),
        ({"timestamp": "yesterday"}, "timestamp"),
        ({"timestamp": "2026-11-24T10:00:00"}, "time zone"),
        ({"event_id": None}, "event_id"),
    ],
)
def test_bad_payloads_name_the_field(change: dict[str, object], message: str) -> None:
    payload = {**_status().to_payload(), **change}
    with pytest.raises(EventSchemaError, match=message):
        parse_event(payload)


def test_missing_field_and_bad_status_are_refused() -> None:
    payload = _status().to_payload()
    del payload["waited_seconds"]
    with pytest.raises(EventSchemaError, match="waited_seconds: missing"):
        parse_event(payload)
    with pytest.raises(EventSchemaError, match="status"):
        OfficerStatusChanged(pbx="hq", timestamp=datetime.now(UTC), call_id="", uniqueid="",
                             status="away")


def test_pbx_must_fit_a_topic() -> None:
    with pytest.raises(EventSchemaError, match="pbx"):
        _status(pbx="a/b")
