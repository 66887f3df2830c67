"""Queue callers' status messages from AMI alone: music on hold stopped and started again.

The event sequences are the ones the lab's Asterisk 22.10 sent for SIP callers at the front desk
(periodic-announce every 20 s, docs/decisions.md "Status messages at the front desk"): a message
is `MusicOnHoldStop` ... `MusicOnHoldStart`; an answer, a hang-up and a queue timeout stop the
music <= 1 ms before the caller leaves the queue, and a missing prompt file starts it again within
1 ms: no message.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from monitor.ami import AmiMessage
from monitor.core.metrics import create_call_metrics
from monitor.core.records import CallLeg, LegKind
from monitor.ingest.call_state import AmiEventError
from monitor.ingest.queue_announcements import QueueAnnouncements, announcement_id
from monitor.ingest.recorder import Recorder
from monitor.store import open_store

JOIN = 1796165313.750986  # a caller joins the front desk at this PBX time


def ev(kind: str, at: float, uniqueid: str = "1.1", **fields: str) -> AmiMessage:
    return AmiMessage({"event": kind, "timestamp": f"{JOIN + at:.6f}", "uniqueid": uniqueid,
                       "linkedid": uniqueid.replace(".", ".0"), "channel": f"PJSIP/t-{uniqueid}",
                       **fields})


def join(at: float, uniqueid: str = "1.1", position: int = 1) -> list[AmiMessage]:
    return [ev("QueueCallerJoin", at, uniqueid, queue="frontdesk", position=str(position)),
            ev("MusicOnHoldStart", at, uniqueid, **{"class": "default"})]


def message(start: float, length: float, uniqueid: str = "1.1") -> list[AmiMessage]:
    return [ev("MusicOnHoldStop", start, uniqueid),
            ev("MusicOnHoldStart", start + length, uniqueid, **{"class": "default"})]


def answered(at: float, uniqueid: str = "1.1") -> list[AmiMessage]:
    return [ev("MusicOnHoldStop", at, uniqueid), ev("QueueCallerLeave", at + 0.0006, uniqueid,
                                                    queue="frontdesk"),
            ev("AgentConnect", at + 0.0007, uniqueid, queue="frontdesk")]


def hung_up(at: float, uniqueid: str = "1.1", *, music_stopped_at: float | None = None
            ) -> list[AmiMessage]:
    stop = ev("MusicOnHoldStop", at if music_stopped_at is None else music_stopped_at, uniqueid)
    return [stop, ev("QueueCallerAbandon", at + 0.0002, uniqueid, queue="frontdesk"),
            ev("QueueCallerLeave", at + 0.0003, uniqueid, queue="frontdesk"),
            ev("Hangup", at + 0.002, uniqueid)]


def feed(tracker: QueueAnnouncements, events: list[AmiMessage]) -> list[tuple[float, float | None]]:
    """(start after the join, interval) of every message the events show."""
    heard = [a for e in events for a in tracker.on_event(e)]
    return [(round(a.announced_at.timestamp() - JOIN, 6),
             None if a.interval_seconds is None else round(a.interval_seconds, 6))
            for a in heard]


def customers(call_id: str) -> bool:
    return not call_id.startswith("9")  # callers 9.x are staff in these tests


@pytest.fixture
def tracker() -> QueueAnnouncements:
    return QueueAnnouncements("hq", is_customer=customers)


def test_each_message_is_the_music_stopping_then_starting_and_the_answer_is_none(
        tracker: QueueAnnouncements) -> None:
    events = [*join(0.0), *message(20.0197, 6.9897), *message(40.0193, 6.9861),
              *message(60.0203, 6.99), *answered(64.5)]
    assert feed(tracker, events) == [(20.0197, None), (40.0193, 19.9996), (60.0203, 20.001)]
    assert len(tracker) == 0


def test_a_message_carries_the_queue_the_call_and_the_wait(tracker: QueueAnnouncements) -> None:
    heard = [a for e in [*join(0.0), *message(20.0, 7.0), *message(40.0, 7.0)]
             for a in tracker.on_event(e)]
    first, second = heard
    assert (second.pbx, second.queue, second.department, second.officer) == (
        "hq", "frontdesk", "", "")
    assert (second.uniqueid, second.call_id, second.position) == ("1.1", "1.01", 1)
    assert second.waited_seconds == pytest.approx(40.0)
    assert second.announced_at == datetime.fromtimestamp(JOIN + 40.0, UTC)
    assert second.event_id == announcement_id("1.1", "frontdesk", second.announced_at)
    assert first.event_id != second.event_id


def test_hanging_up_while_the_music_plays_is_no_message(tracker: QueueAnnouncements) -> None:
    assert feed(tracker, [*join(0.0), *message(20.0, 7.0), *hung_up(33.4)]) == [(20.0, None)]


def test_hanging_up_during_a_message_still_counts_the_message(
        tracker: QueueAnnouncements) -> None:
    events = [*join(0.0), *join(1.0, "2.2", 2), *message(20.0, 7.0, "2.2"),
              *hung_up(43.1, "2.2", music_stopped_at=40.01)]
    heard = [a for e in events for a in tracker.on_event(e)]
    assert [(a.interval_seconds, a.position) for a in heard] == [(None, 2), (
        pytest.approx(20.01), 2)]
    assert tracker.position("2.2") is None


def test_no_prompt_to_play_is_no_message_and_is_logged_once(
        tracker: QueueAnnouncements, caplog: pytest.LogCaptureFixture) -> None:
    nothing = [ev("MusicOnHoldStop", 20.0172), ev("MusicOnHoldStart", 20.0173)]
    again = [ev("MusicOnHoldStop", 40.0179), ev("MusicOnHoldStart", 40.0181)]
    with caplog.at_level("WARNING"):
        assert feed(tracker, [*join(0.0), *nothing, *again, *message(60.0, 6.0)]) == [
            (60.0, None)]
    assert [r.getMessage() for r in caplog.records] == [
        "queue frontdesk: app_queue stopped a waiting caller's music and played nothing "
        "(is its periodic-announce prompt missing?)"]


def test_a_queue_timeout_is_no_message(tracker: QueueAnnouncements) -> None:
    events = [*join(0.0), *message(20.0, 7.0),
              ev("MusicOnHoldStop", 300.0), ev("QueueCallerLeave", 300.0004, queue="frontdesk")]
    assert feed(tracker, events) == [(20.0, None)]


def test_music_of_a_channel_not_in_a_queue_is_ignored(tracker: QueueAnnouncements) -> None:
    officer_flow_caller = [*message(5.0, 7.0, "5.5"), *message(25.0, 7.0, "5.5")]
    on_hold_after_answer = [*join(0.0), *answered(10.0), *message(30.0, 5.0), *message(50.0, 5)]
    assert feed(tracker, officer_flow_caller + on_hold_after_answer) == []


def test_staff_calls_hear_messages_but_are_not_measured(tracker: QueueAnnouncements) -> None:
    assert feed(tracker, [*join(0.0, "9.9"), *message(20.0, 7.0, "9.9"),
                          *message(40.0, 7.0, "9.9")]) == []


def test_position_follows_joins_and_leaves_of_everyone_in_the_queue(
        tracker: QueueAnnouncements) -> None:
    feed(tracker, [*join(0.0, "1.1"), *join(1.0, "9.9", 2), *join(2.0, "3.3", 3)])
    assert [tracker.position(u) for u in ("1.1", "9.9", "3.3")] == [1, 2, 3]
    feed(tracker, join(3.0, "4.4", 1))  # a returned caller (QUEUE_PRIO) goes in first
    assert [tracker.position(u) for u in ("4.4", "1.1", "9.9", "3.3")] == [1, 2, 3, 4]
    feed(tracker, [*answered(10.0, "4.4"), *hung_up(11.0, "9.9")])
    heard = [a for e in message(22.0, 7.0, "3.3") for a in tracker.on_event(e)]
    assert [(a.uniqueid, a.position) for a in heard] == [("3.3", 2)]
    assert tracker.position("9.9") is None


def test_a_returned_caller_starts_again_with_no_interval(tracker: QueueAnnouncements) -> None:
    first_entry = [*join(0.0), *message(20.0, 7.0), *message(40.0, 7.0), *answered(45.0)]
    back_from_an_officer = [*join(90.0), *message(110.0, 7.0), *message(130.0, 7.0)]
    assert feed(tracker, first_entry + back_from_an_officer) == [
        (20.0, None), (40.0, 20.0), (110.0, None), (130.0, 20.0)]


def test_after_a_restart_the_next_message_has_its_interval_from_the_store(
        tracker: QueueAnnouncements) -> None:
    joined = datetime.fromtimestamp(JOIN, UTC)
    leg = CallLeg(pbx="hq", call_id="1.01", leg_id="1.1:frontdesk@1796165313",
                  kind=LegKind.FRONT_DESK, offered_at=joined, queue="frontdesk", uniqueid="1.1")
    tracker.resume([leg], {"1.1": joined + timedelta(seconds=20.0)})
    assert feed(tracker, message(40.0, 7.0)) == [(40.0, 20.0)]
    assert tracker.position("1.1") == 1


def test_vanished_callers_are_forgotten(tracker: QueueAnnouncements) -> None:
    feed(tracker, [*join(0.0, "1.1"), *join(1.0, "2.2", 2)])
    tracker.reconcile(lambda uniqueid: uniqueid == "2.2")
    assert (len(tracker), tracker.position("2.2")) == (1, 1)


def test_an_event_without_the_pbx_time_is_refused(tracker: QueueAnnouncements) -> None:
    feed(tracker, join(0.0))
    with pytest.raises(AmiEventError, match="Timestamp"):
        tracker.on_event(AmiMessage({"event": "MusicOnHoldStop", "uniqueid": "1.1"}))


def _recorder(url: str) -> Recorder:
    recorder = Recorder(store=open_store(url), metrics=create_call_metrics(CollectorRegistry()),
                        pbx="hq")
    recorder.start(queues=["frontdesk"], departments=["licensing"])
    return recorder


def _front_desk(recorder: Recorder, name: str) -> float | None:
    return recorder.metrics.registry.get_sample_value(
        name, {"pbx": "hq", "queue": "frontdesk", "department": ""})


def test_the_recorder_stores_and_counts_them_and_a_restart_rebuilds_the_histogram(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/calls.db"
    recorder = _recorder(url)
    count = "callsla_status_announcement_interval_seconds_count"
    assert _front_desk(recorder, count) == 0  # the series exists before the first message
    recorder.on_ami_events([*join(0.0), *message(20.0, 7.0), *message(40.004, 7.0)])
    recorder.on_ami_events(message(60.003, 7.0))
    assert _front_desk(recorder, count) == 2
    stored = recorder.store.status_announcements(datetime(2000, 1, 1, tzinfo=UTC),
                                                 datetime(2100, 1, 1, tzinfo=UTC))
    assert [(a.queue, a.interval_seconds and round(a.interval_seconds, 6)) for a in stored] == [
        ("frontdesk", None), ("frontdesk", 20.004), ("frontdesk", 19.999)]
    recorder.store.close()
    again = _recorder(url)  # the caller is still waiting
    assert _front_desk(again, count) == 2
    assert again.metrics.registry.get_sample_value(
        "callsla_status_announcement_interval_seconds_bucket",
        {"pbx": "hq", "queue": "frontdesk", "department": "", "le": "20.5"}) == 2
    again.on_ami_events([*message(80.0, 7.0), *answered(90.0)])
    assert _front_desk(again, count) == 3
    assert _front_desk(again, "callsla_status_announcement_interval_seconds_sum") == (
        pytest.approx(20.004 + 19.999 + 19.997, abs=1e-5))
    again.store.close()
