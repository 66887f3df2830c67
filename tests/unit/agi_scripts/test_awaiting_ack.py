"""Which sent events wait for the monitor's acknowledgement, and when each goes again: after
10 s, then twice as long each time up to the cap; at once when the monitor logs in."""

from __future__ import annotations

import pytest

from agi_scripts.awaiting_ack import AwaitingAck
from monitor.core.acks_on_ami import ack_token


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_an_event_is_due_again_after_a_timeout_that_doubles_up_to_the_cap() -> None:
    clock = Clock()
    awaiting = AwaitingAck(first_timeout=10, max_timeout=60, clock=clock)
    assert awaiting.due("e1"), "never sent"
    resent_after = []
    for _ in range(5):
        awaiting.sending("e1")
        sent_at = clock.now
        assert not awaiting.due("e1")
        assert awaiting.next_due_in() is not None
        clock.now += awaiting.next_due_in() or 0.0
        assert awaiting.due("e1")
        resent_after.append(clock.now - sent_at)
    assert resent_after == [10, 20, 40, 60, 60]


def test_an_acknowledgement_forgets_the_event_and_says_which_were_waiting() -> None:
    awaiting = AwaitingAck(clock=Clock())
    awaiting.sending("e1")
    awaiting.sending("e2")
    assert awaiting.acknowledged({ack_token("e1"), "unknown"}) == {"e1"}
    assert len(awaiting) == 1
    assert awaiting.due("e1"), "forgotten: its file is gone, or it is new again"
    assert not awaiting.due("e2")


def test_the_monitor_logging_in_makes_everything_due_with_a_fresh_timeout() -> None:
    clock = Clock()
    awaiting = AwaitingAck(first_timeout=10, clock=clock)
    for _ in range(3):
        awaiting.sending("e1")  # backed off to 40 s
    awaiting.resend_all()
    assert awaiting.due("e1")
    assert awaiting.next_due_in() == 0
    awaiting.sending("e1")
    clock.now += 10
    assert awaiting.due("e1"), "the first timeout again, not the backed-off one"


def test_a_failed_send_is_due_at_once_and_files_gone_are_forgotten() -> None:
    awaiting = AwaitingAck(clock=Clock())
    awaiting.sending("e1")
    awaiting.not_sent("e1")
    assert awaiting.due("e1")
    awaiting.sending("e2")
    awaiting.sending("e3")
    awaiting.keep_only(["e3"])
    assert len(awaiting) == 1
    assert awaiting.next_due_in() == 10


def test_timeouts_must_be_positive_and_ordered() -> None:
    with pytest.raises(ValueError, match="first_timeout"):
        AwaitingAck(first_timeout=0)
    with pytest.raises(ValueError, match="max_timeout"):
        AwaitingAck(first_timeout=20, max_timeout=10)
