"""The call state machine on AMI events captured from the lab's Asterisk 22, and on edge cases."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.ami import AmiMessage, parse_message
from monitor.core.records import LegKind, MissedCause, Outcome
from monitor.ingest.call_state import AmiEventError, CallTracker, LegUpdate

CAPTURE = Path(__file__).parents[3] / "data" / "ami_answered_then_abandoned.txt"


def captured() -> list[AmiMessage]:
    blocks = CAPTURE.read_text().split("\n\n")
    return [parse_message(b.strip().splitlines()) for b in blocks if b.strip()]


def feed(tracker: CallTracker, events: list[AmiMessage]) -> list[LegUpdate]:
    return [u for e in events if e.event for u in tracker.on_event(e)]


def test_a_captured_answer_and_abandon_give_two_front_desk_legs() -> None:
    updates = feed(CallTracker("lab"), captured())
    legs = {u.leg.leg_id: u.leg for u in updates}
    assert list(legs) == ["1795485505.1:frontdesk@1795485505", "1795485511.5:frontdesk@1795485511"]
    answered, abandoned = legs.values()
    assert answered.kind is LegKind.FRONT_DESK
    assert answered.call_id == "1795485505.0"
    assert answered.caller_number == "0311111111"
    assert answered.outcome is Outcome.ANSWERED
    assert answered.answered_by == "Reception 1"
    assert answered.answer_wait_seconds == pytest.approx(1795485507.638237 - 1795485505.635727)
    assert abandoned.outcome is Outcome.MISSED
    assert abandoned.missed_cause is MissedCause.ABANDONED
    assert [(u.offered, u.answered, u.ended) for u in updates
            if u.offered or u.answered or u.ended] == [
        (True, False, False), (False, True, False), (True, False, False), (False, False, True)]
    assert answered.ended_at is not None  # the hang-up ends the answered leg
    assert answered.ended_at > answered.answered_at


def test_the_tracker_forgets_finished_calls() -> None:
    tracker = CallTracker("lab")
    feed(tracker, captured())
    assert tracker.tracked == 0


def at(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def ev(name: str, t: float, **fields: str) -> AmiMessage:
    return AmiMessage({"event": name, "timestamp": f"{t}", **{k.lower(): v for k, v in
                                                              fields.items()}})


JOIN = {"uniqueid": "1.1", "linkedid": "1.0", "queue": "frontdesk", "calleridnum": "0312345678"}


def test_a_queue_timeout_is_missed_by_timeout_when_the_queue_status_arrives() -> None:
    tracker = CallTracker("lab")
    updates = tracker.on_event(ev("QueueCallerJoin", 100, **JOIN))
    assert tracker.on_event(ev("QueueCallerLeave", 400, **JOIN)) == []
    updates += tracker.on_event(ev("VarSet", 400.01, uniqueid="1.1", variable="QUEUESTATUS",
                                   value="TIMEOUT"))
    leg = updates[-1].leg
    assert (leg.outcome, leg.missed_cause) == (Outcome.MISSED, MissedCause.TIMEOUT)
    assert leg.ended_at is not None
    assert leg.ended_at.timestamp() == 400


def test_leave_empty_is_no_agents() -> None:
    tracker = CallTracker("lab")
    tracker.on_event(ev("QueueCallerJoin", 100, **JOIN))
    tracker.on_event(ev("QueueCallerLeave", 130, **JOIN))
    updates = tracker.on_event(ev("VarSet", 130, uniqueid="1.1", variable="QUEUESTATUS",
                                  value="LEAVEEMPTY"))
    assert updates[0].leg.missed_cause is MissedCause.NO_AGENTS


@pytest.mark.parametrize(("cause", "missed"), [("4", MissedCause.LOST),  # PBX stopping
                                                ("32", MissedCause.ABANDONED)])  # AMI Hangup
def test_a_caller_the_pbx_hangs_up_as_it_stops_is_lost_not_abandoned(
        cause: str, missed: MissedCause) -> None:
    """As measured on `core restart now`: SoftHangupRequest (Cause = the soft-hang-up flag),
    then app_queue's QueueCallerAbandon, then the Hangup."""
    def run(request: bool) -> tuple[CallTracker, list[LegUpdate]]:
        tracker = CallTracker("lab")
        tracker.on_event(ev("QueueCallerJoin", 100, **JOIN))
        if request:
            tracker.on_event(ev("SoftHangupRequest", 130, uniqueid="1.1", cause=cause))
        updates = tracker.on_event(ev("QueueCallerAbandon", 130.01, **JOIN))
        tracker.on_event(ev("Hangup", 130.02, uniqueid="1.1", linkedid="1.0", cause="16"))
        return tracker, updates

    tracker, updates = run(request=True)
    assert [(u.leg.outcome, u.leg.missed_cause) for u in updates] == [(Outcome.MISSED, missed)]
    assert tracker.tracked == run(request=False)[0].tracked  # the hang-up forgets the request


def officer_dial(t: float, status: str | None = None) -> AmiMessage:
    fields = {"uniqueid": "1.1", "linkedid": "1.0", "channel": "PJSIP/trunk-0001",
              "destuniqueid": "1.9", "destchannel": "PJSIP/2001-0002",
              "destcalleridnum": "0312345678", "dialstring": "PJSIP/2001"}
    if status is None:
        return ev("DialBegin", t, **fields)
    return ev("DialEnd", t, dialstatus=status, **fields)


def answer_at_front_desk(tracker: CallTracker) -> None:
    tracker.on_event(ev("QueueCallerJoin", 100, **JOIN))
    tracker.on_event(ev("QueueCallerLeave", 103, **JOIN))
    tracker.on_event(ev("AgentConnect", 103, membername="Reception 1", **JOIN))


def test_an_unanswered_transfer_that_returns_is_returned_then_a_new_front_desk_leg() -> None:
    tracker = CallTracker("lab")
    answer_at_front_desk(tracker)
    tracker.set_routing("1.0", "licensing", "2001")
    front_desk, offered = tracker.on_event(officer_dial(120))
    assert (front_desk.leg.kind, front_desk.leg.ended_at) == (LegKind.FRONT_DESK, at(120))
    assert offered.leg.kind is LegKind.TRANSFER
    assert offered.leg.department == "licensing"
    (rang,) = tracker.on_event(officer_dial(140, "NOANSWER"))
    assert (rang.offered, rang.answered, rang.ended) == (False, False, False)  # cause unknown
    assert [r.result.value for r in rang.rings] == ["not_answered"]
    updates = tracker.on_event(ev("QueueCallerJoin", 141, **JOIN))
    transfer, back = (u.leg for u in updates)
    assert transfer.outcome is Outcome.RETURNED
    assert updates[0].ended
    assert back.kind is LegKind.RETURNED
    assert back.leg_id == "1.1:frontdesk@141"
    assert back.returned_from == "2001"


def test_an_unanswered_transfer_then_hang_up_is_missed() -> None:
    tracker = CallTracker("lab")
    answer_at_front_desk(tracker)
    tracker.on_event(officer_dial(120))
    tracker.on_event(officer_dial(140, "NOANSWER"))
    updates = tracker.on_event(ev("Hangup", 142, uniqueid="1.1", linkedid="1.0",
                                  channel="PJSIP/trunk-0001"))
    assert updates[0].leg.missed_cause is MissedCause.TRANSFER_UNANSWERED


def test_an_unanswered_transfer_then_a_message_is_voicemail() -> None:
    tracker = CallTracker("lab")
    answer_at_front_desk(tracker)
    tracker.on_event(officer_dial(120))
    tracker.on_event(officer_dial(140, "NOANSWER"))
    updates = tracker.voicemail("1.1", "1.0")
    assert updates[0].leg.outcome is Outcome.VOICEMAIL


def test_a_direct_call_answered_by_the_officer() -> None:
    tracker = CallTracker("lab")
    tracker.on_event(officer_dial(10))
    updates = tracker.on_event(officer_dial(14.5, "ANSWER"))
    leg = updates[0].leg
    assert (leg.kind, leg.officer, leg.answer_wait_seconds) == (LegKind.DIRECT, "2001", 4.5)


def test_an_event_without_timestamp_is_refused() -> None:
    with pytest.raises(AmiEventError, match="timestampevents"):
        CallTracker("lab").on_event(AmiMessage({"event": "QueueCallerJoin", **JOIN}))


@pytest.mark.parametrize(("dialstring", "officer"), [
    ("PJSIP/2001", "2001"), ("Local/r1@lab-phones/n", "r1"), ("r2@lab-phones/n", "r2"),
    ("2001", "2001"), ("PJSIP/2001/sip:2001@10.0.0.5", "2001")])
def test_the_officer_is_the_dialled_extension(dialstring: str, officer: str) -> None:
    event = officer_dial(10)
    tracker = CallTracker("lab")
    updates = tracker.on_event(AmiMessage({**dict(event), "dialstring": dialstring}))
    assert updates[0].leg.officer == officer


def test_with_ami_alone_the_directory_gives_a_transfer_its_department() -> None:
    tracker = CallTracker("lab")
    tracker.know_officers({"2001": "licensing"})
    answer_at_front_desk(tracker)
    offered = tracker.on_event(officer_dial(120))[-1]
    assert (offered.leg.kind, offered.leg.department) == (LegKind.TRANSFER, "licensing")


def test_a_lab_phone_is_known_by_the_extension_the_caller_dialled() -> None:
    tracker = CallTracker("lab")
    tracker.know_officers({"2101": "finance"})
    event = officer_dial(10)
    updates = tracker.on_event(AmiMessage({**dict(event), "dialstring": "Local/o2101@lab-phones/n",
                                           "exten": "2101"}))
    assert (updates[0].leg.officer, updates[0].leg.department) == ("2101", "finance")


def test_the_scripts_word_wins_over_the_directory() -> None:
    tracker = CallTracker("lab")
    tracker.know_officers({"2001": "licensing"})
    tracker.set_routing("1.0", "enforcement", "2001")
    offered = tracker.on_event(officer_dial(10))
    assert offered[0].leg.department == "enforcement"
