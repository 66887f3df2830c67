"""Call-flow events framed as AMI UserEvents: every type comes back as the same JSON text, every
header line stays within what Asterisk 22 reads (measured: a 1020-byte line passed, 1023 was
refused, `Failed to parse message: line too long`), and a damaged event is refused whole."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.ami import parse_message
from monitor.core.events import EVENT_TYPES, EventSchemaError, parse_event
from monitor.core.events_on_ami import (
    MAX_PARTS,
    USER_EVENT,
    is_call_flow_event,
    payload_from_userevent,
    userevent_fields,
)
from tests.support.event_payloads import sample_event

ASTERISK_LINE_LIMIT = 1020  # bytes of one header line Asterisk 22.10 took (lab)


def as_asterisk_sends_it(fields: dict[str, str]) -> dict[str, str]:
    """The event Asterisk makes of the action: every header but Action, `UserEvent` first."""
    lines = ["Event: UserEvent", "Privilege: user,all", "Timestamp: 1796174074.810923",
             f"UserEvent: {fields['UserEvent']}", "ActionID: callsla-7"]
    lines += [f"{k}: {v}" for k, v in fields.items() if k != "UserEvent"]
    return dict(parse_message(lines))


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_every_event_type_comes_back_as_the_same_text(event_type: str) -> None:
    event = sample_event(event_type)
    text = event.to_json().decode()
    fields = userevent_fields(text, event_id=event.event_id, event_type=event.type)
    received = as_asterisk_sends_it(fields)
    assert is_call_flow_event(received)
    assert payload_from_userevent(received) == text
    assert parse_event(payload_from_userevent(received)) == event


def test_a_long_event_with_spaces_colons_and_malay_text_is_split_into_short_lines() -> None:
    name = " Puan: Siti Nurhaliza binti Tarudin \\ é ✓ "
    event = sample_event("callback_created", caller_name=name[:40], matter=("a: b  " * 160)
                         + "تمام")
    text = event.to_json().decode()
    fields = userevent_fields(text, event_id=event.event_id, event_type=event.type)
    assert int(fields["Parts"]) > 1
    for key, value in fields.items():
        line = f"{key}: {value}"
        assert len(line.encode()) <= ASTERISK_LINE_LIMIT
        assert "\r" not in line
        assert "\n" not in line
        assert value == value.strip()
    assert payload_from_userevent(as_asterisk_sends_it(fields)) == text


def test_an_event_too_large_for_one_action_is_refused_when_framed() -> None:
    with pytest.raises(EventSchemaError, match="do not fit one AMI UserEvent"):
        userevent_fields("x" * (MAX_PARTS * 720 + 1), event_id="e1", event_type="status")


def test_other_user_events_are_not_ours() -> None:
    assert not is_call_flow_event({"event": "UserEvent", "userevent": "SomethingElse"})
    assert not is_call_flow_event({"event": "VarSet", "userevent": USER_EVENT})


@pytest.mark.parametrize(("change", "message"), [
    ({"parts": "0"}, "Parts '0' is not 1 to"),
    ({"parts": "x"}, "Parts 'x' is not"),
    ({"parts": "3"}, "part3 missing"),
    ({"part1": "not base64!"}, "not base64"),
    ({"part1": base64.b64encode(b"\xff\xfe").decode(), "part2": ""}, "not UTF-8"),
])
def test_a_damaged_event_is_refused_with_the_reason(change: dict[str, str],
                                                     message: str) -> None:
    event = sample_event("callback_created", matter="m" * 900)
    received = as_asterisk_sends_it(userevent_fields(
        event.to_json(), event_id=event.event_id, event_type=event.type))
    assert received["parts"] == "2"
    with pytest.raises(EventSchemaError, match=message):
        payload_from_userevent({**received, **change})


@given(st.dictionaries(st.sampled_from(["parts", "part1", "part2", "part3", "eventid"]),
                       st.text(max_size=40), max_size=5))
def test_whatever_the_headers_the_only_error_is_event_schema_error(
        headers: dict[str, str]) -> None:
    try:
        text = payload_from_userevent({"event": "UserEvent", "userevent": USER_EVENT, **headers})
    except EventSchemaError:
        return
    assert isinstance(text, str)
