"""A person's state from what Asterisk says: device states, queue members, officers' status."""

from __future__ import annotations

from monitor.core.directory import OfficerStatus
from monitor.live.console.person_states import (
    PersonState,
    device_state,
    member_state,
    officer_state,
)


def test_device_states() -> None:
    assert [device_state(s) for s in ("NOT_INUSE", "inuse", "RINGING", "RINGINUSE",
                                      "UNAVAILABLE", "INVALID", "", "nonsense")] == [
        PersonState.FREE, PersonState.ON_CALL, PersonState.RINGING, PersonState.ON_CALL,
        PersonState.UNREGISTERED, PersonState.UNREGISTERED, PersonState.UNKNOWN,
        PersonState.UNKNOWN]


def test_queue_members() -> None:
    assert member_state({"status": "1", "paused": "0"}) is PersonState.FREE
    assert member_state({"status": "6"}) is PersonState.RINGING
    assert member_state({"status": "2", "paused": "1"}) is PersonState.PAUSED
    assert member_state({"status": "1", "incall": "1"}) is PersonState.ON_CALL
    assert member_state({"status": "5"}) is PersonState.UNREGISTERED
    assert member_state({"status": "42"}) is PersonState.UNKNOWN
    assert member_state({"status": "x"}) is PersonState.UNKNOWN


def test_officers_out_or_on_leave_are_paused_unless_on_a_call() -> None:
    assert officer_state("NOT_INUSE", OfficerStatus.IN) is PersonState.FREE
    assert officer_state("NOT_INUSE", OfficerStatus.OUT) is PersonState.PAUSED
    assert officer_state("UNAVAILABLE", OfficerStatus.LEAVE) is PersonState.PAUSED
    assert officer_state("INUSE", OfficerStatus.OUT) is PersonState.ON_CALL
    assert officer_state("", OfficerStatus.IN) is PersonState.UNKNOWN
