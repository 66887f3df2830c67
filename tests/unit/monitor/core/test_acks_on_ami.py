"""The acknowledgement's framing, shared by the monitor (which sends it) and the agi-server
(which reads it): ids batched within one AMI line, any event id named safely, and a round trip
through AMI's parser."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from monitor.ami import parse_message
from monitor.core.acks_on_ami import (
    STORED_EVENT,
    ack_fields,
    ack_token,
    parse_ack,
    resend_request_fields,
)

ASTERISK_LINE_BYTES = 1020  # measured on the lab's Asterisk 22: a longer line is refused


def as_received(fields: dict[str, str]) -> dict[str, str]:
    """The event Asterisk sends every `read = user` session for this UserEvent action."""
    lines = ["Event: UserEvent", *(f"{k}: {v}" for k, v in fields.items())]
    assert all(len(line.encode()) <= ASTERISK_LINE_BYTES for line in lines)
    return dict(parse_message(lines))


def test_many_ids_go_in_several_user_events_each_within_one_line() -> None:
    ids = [str(uuid.uuid4()) for _ in range(100)]
    actions = ack_fields("hq", ids)
    assert len(actions) == 4  # 27 uuids a line
    read = [parse_ack(as_received(a)) for a in actions]
    assert all(a is not None and a.pbx == "hq" and not a.resend_all for a in read)
    assert [t for a in actions for t in a["EventIDs"].split(",")] == ids
    assert ack_fields("hq", []) == []


@given(st.lists(st.text(min_size=1, max_size=1000).filter(lambda s: "\x00" not in s),
                max_size=30))
def test_any_event_id_is_named_by_a_token_that_survives_the_trip(ids: list[str]) -> None:
    received: set[str] = set()
    for fields in ack_fields("hq", ids):
        ack = parse_ack(as_received(fields))
        assert ack is not None
        received |= ack.tokens
    assert received == {ack_token(i) for i in ids}


def test_a_uuid_is_named_as_it_is_and_a_strange_id_by_its_hash() -> None:
    plain = str(uuid.uuid4())
    assert ack_token(plain) == plain
    assert ack_token("a, b") != ack_token("a,b")
    assert ack_token("a, b").startswith("sha256-")


def test_the_login_request_and_other_user_events() -> None:
    request = parse_ack(as_received(resend_request_fields("hq")))
    assert request is not None
    assert request.resend_all
    assert request.tokens == frozenset()
    assert parse_ack(as_received({"UserEvent": "CallSLA", "EventID": "x"})) is None
    assert parse_ack({"event": "Hangup", "userevent": STORED_EVENT}) is None
