"""The live AMI feed against a fake AMI server: events end up in a real SQLite store and the
counters through the Recorder, and a dropped connection is followed by a new login, a catch-up
and the rest of the calls, each counted once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from monitor.core.events_on_ami import userevent_fields
from monitor.core.metrics import create_call_metrics
from monitor.core.records import MissedCause, Outcome
from monitor.core.settings import parse_endpoint
from monitor.ingest import ami_feed
from monitor.ingest.ami_feed import AmiFeed
from monitor.ingest.recorder import Recorder
from monitor.store import Store, StoreError, open_store
from tests.support.event_payloads import sample_event
from tests.support.fake_ami import FakeAmi, read_capture

CAPTURE = read_capture(Path(__file__).parents[3] / "data" / "ami_answered_then_abandoned.txt")
# The capture's first caller is answered at its AgentConnect; the second abandons later.
FIRST_ANSWERED = next(i for i, e in enumerate(CAPTURE) if e["Event"] == "AgentConnect") + 1
CALL_ID = "1795485505.0"
LABELS = {"pbx": "unit", "queue": "frontdesk", "department": ""}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path}/feed.db") as store:
        yield store


@pytest.fixture
def recorder(store: Store) -> Recorder:
    recorder = Recorder(store=store, metrics=create_call_metrics(CollectorRegistry()),
                        pbx="unit")
    recorder.start()
    return recorder


@pytest.fixture
async def ami() -> AsyncIterator[FakeAmi]:
    server = await FakeAmi().start()
    yield server
    await server.close()


class Feed:
    """The feed under test, run as a task, with its catch-up calls counted."""

    def __init__(self, ami: FakeAmi, recorder: Recorder, *, secret: str | None = None) -> None:
        self.catch_ups: list[int] = []  # actions the server had seen at each catch-up
        secret = ami.secret if secret is None else secret
        endpoint = parse_endpoint("CALLSLA_AMI_URL",
                                  f"tcp://{ami.username}:{secret}@127.0.0.1:{ami.port}",
                                  schemes={"tcp": 5038})
        self.feed = AmiFeed(endpoint=endpoint, recorder=recorder,
                            catch_up=lambda: self.catch_ups.append(len(ami.actions)))
        self.task = asyncio.create_task(self.feed.run())

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


@pytest.fixture
async def feed(ami: FakeAmi, recorder: Recorder) -> AsyncIterator[Feed]:
    running = Feed(ami, recorder)
    yield running
    await running.stop()


def value(recorder: Recorder, name: str, **labels: str) -> float:
    return recorder.metrics.registry.get_sample_value(name, {**LABELS, **labels}) or 0.0


def counts(recorder: Recorder) -> tuple[float, float, float]:
    return (value(recorder, "callsla_calls_offered_total"),
            value(recorder, "callsla_calls_answered_total"),
            value(recorder, "callsla_calls_missed_total", cause="abandoned"))


async def until(check: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():  # noqa: ASYNC110 - the store and registry have nothing to wait on
            await asyncio.sleep(0.01)
    assert check(), what


def source(recorder: Recorder, name: str) -> float:
    return recorder.metrics.registry.get_sample_value(
        name, {"pbx": "unit", "source": "ami"}) or 0.0


async def test_captured_calls_reach_the_store_and_the_counters(
        ami: FakeAmi, feed: Feed, recorder: Recorder, store: Store) -> None:
    await ami.wait_for_logins(1)
    await until(lambda: feed.feed.connected, "feed connected")
    assert feed.feed.queues == ["frontdesk"]  # declared from QueueSummary
    assert source(recorder, "callsla_monitor_source_connected") == 1
    # the queue's series exist before its first call
    assert recorder.metrics.registry.get_sample_value(
        "callsla_calls_offered_total", LABELS) == 0
    await ami.send(*CAPTURE)
    await until(lambda: counts(recorder) == (2, 1, 1), "two legs counted")
    legs = {leg.leg_id: leg for leg in store.legs_of_call(CALL_ID)}
    answered = legs["1795485505.1:frontdesk@1795485505"]
    assert (answered.outcome, answered.answered_by) == (Outcome.ANSWERED, "Reception 1")
    assert answered.answer_wait_seconds == pytest.approx(1795485507.638237 - 1795485505.635727)
    [abandoned] = store.legs_of_call("1795485511.4")
    assert abandoned.leg_id == "1795485511.5:frontdesk@1795485511"
    assert (abandoned.outcome, abandoned.missed_cause) == (Outcome.MISSED, MissedCause.ABANDONED)
    assert value(recorder, "callsla_answer_wait_seconds_bucket", le="5.0") == 1
    assert store.open_legs("unit") == []
    # every event read counts, the ones skipped unparsed too
    assert source(recorder, "callsla_monitor_events_total") == len(CAPTURE)
    # caught up once, after Login and QueueSummary and before the channel check (refused
    # here, as to a read-only user, so the queues' own list stands in)
    assert feed.catch_ups == [2]
    assert [a["Action"] for a in ami.actions] == ["Login", "QueueSummary", "CoreShowChannels",
                                                  "QueueStatus", "UserEvent"]
    assert ami.actions[-1] == {"Action": "UserEvent", "ActionID": ami.actions[-1]["ActionID"],
                               "UserEvent": "CallSLAStored", "PBX": "unit", "EventIDs": "",
                               "Resend": "all"}, "at login: send again what was not stored"


async def test_after_the_server_drops_the_feed_logs_in_again_and_goes_on(
        ami: FakeAmi, feed: Feed, recorder: Recorder, store: Store) -> None:
    await ami.wait_for_logins(1)
    await until(lambda: feed.feed.connected, "feed connected")
    await ami.send(*CAPTURE[:FIRST_ANSWERED])
    await until(lambda: counts(recorder) == (1, 1, 0), "first caller answered")
    await ami.drop()
    await until(lambda: not feed.feed.connected, "feed saw the loss")
    assert source(recorder, "callsla_monitor_source_connected") == 0
    await ami.wait_for_logins(2)  # after the 1 s back-off
    await until(lambda: feed.feed.connected, "feed connected again")
    assert source(recorder, "callsla_monitor_source_connected") == 1
    assert len(feed.catch_ups) == 2, "a backfill of the gap before live events again"
    await ami.send(*CAPTURE[FIRST_ANSWERED:])
    await until(lambda: counts(recorder) == (2, 1, 1), "second caller abandoned")
    await asyncio.sleep(0.1)
    assert counts(recorder) == (2, 1, 1), "the first caller is not counted again"
    assert len(store.legs_of_call(CALL_ID)) == 1


async def test_events_arriving_during_the_queue_summary_are_recorded_in_order(
        ami: FakeAmi, recorder: Recorder) -> None:
    join = next(e for e in CAPTURE if e["Event"] == "QueueCallerJoin")

    def summary_with_a_caller_joining(action: dict[str, str]) -> list[dict[str, str]]:
        aid = {"ActionID": action["ActionID"]}
        return [{"Response": "Success", "Message": "Queue summary will follow"}, join,
                {"Event": "QueueSummary", **aid, "Queue": "frontdesk"},
                {"Event": "QueueSummaryComplete", **aid, "EventList": "Complete"}]

    def status_with_the_caller(action: dict[str, str]) -> list[dict[str, str]]:
        aid = {"ActionID": action["ActionID"]}
        return [{"Response": "Success"},
                {"Event": "QueueEntry", **aid, "Queue": "frontdesk",
                 "Uniqueid": join["uniqueid"]},
                {"Event": "QueueStatusComplete", **aid}]

    ami.handlers["QueueSummary"] = summary_with_a_caller_joining
    ami.handlers["QueueStatus"] = status_with_the_caller
    running = Feed(ami, recorder)
    try:
        await until(lambda: value(recorder, "callsla_callers_waiting") == 1, "caller waiting")
        assert value(recorder, "callsla_calls_offered_total") == 1
        await until(lambda: running.feed.connected, "feed connected")
        assert running.feed.queues == ["frontdesk"]
        # the caller is still queued, so the resume check does not drop them
        await asyncio.sleep(0.05)
        assert value(recorder, "callsla_callers_waiting") == 1
    finally:
        await running.stop()


async def test_a_caller_gone_while_we_were_away_no_longer_counts_as_waiting(
        ami: FakeAmi, feed: Feed, recorder: Recorder) -> None:
    join = next(e for e in CAPTURE if e["Event"] == "QueueCallerJoin")
    await ami.wait_for_logins(1)
    await until(lambda: feed.feed.connected, "feed connected")
    await ami.send(join)
    await until(lambda: value(recorder, "callsla_callers_waiting") == 1, "caller waiting")
    await ami.drop()  # the caller leaves while the link is down; QueueStatus no longer has them
    await ami.wait_for_logins(2)
    await until(lambda: not recorder.tracker.queue_legs, "caller forgotten")
    recorder.refresh_waiting(datetime.now(UTC))  # the service's gauge tick
    assert value(recorder, "callsla_callers_waiting") == 0


async def test_callers_whose_channels_vanished_in_a_pbx_restart_are_closed_as_lost(
        ami: FakeAmi, feed: Feed, recorder: Recorder, store: Store) -> None:
    join = next(e for e in CAPTURE if e["Event"] == "QueueCallerJoin")
    ami.channels = []  # the PBX came back with no channel: no Hangup was ever sent
    await ami.wait_for_logins(1)
    await until(lambda: feed.feed.connected, "feed connected")
    await ami.send(join)
    await until(lambda: value(recorder, "callsla_callers_waiting") == 1, "caller waiting")
    await ami.drop()
    await ami.wait_for_logins(2)
    await until(lambda: value(recorder, "callsla_calls_missed_total", cause="lost") == 1,
                "the vanished caller closed as lost")
    assert value(recorder, "callsla_callers_waiting") == 0
    assert store.open_legs("unit") == []


async def test_a_refused_login_is_retried_with_a_growing_back_off(
        ami: FakeAmi, recorder: Recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []
    real_sleep = asyncio.sleep

    async def quick_sleep(seconds: float) -> None:
        if seconds >= 1:  # the feed's back-off (the test's own polls are shorter)
            sleeps.append(seconds)
            # Enough seen: park the feed in its sleep, where cancelling it is sure to land
            # (Python 3.11's wait_for, in connect(), can lose a cancel that races a result).
            seconds = 0 if len(sleeps) < 7 else 3600
        await real_sleep(seconds)

    monkeypatch.setattr(ami_feed.asyncio, "sleep", quick_sleep)
    running = Feed(ami, recorder, secret="wrong")
    try:
        await until(lambda: len(sleeps) >= 7, "seven retries")
    finally:
        await running.stop()
    assert sleeps[:7] == [1, 2, 4, 8, 16, 30, 30]
    assert not running.feed.connected
    assert source(recorder, "callsla_monitor_source_connected") == 0


async def test_the_back_off_starts_again_at_1_s_after_a_good_connection(
        ami: FakeAmi, recorder: Recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []
    real_sleep = asyncio.sleep

    async def quick_sleep(seconds: float) -> None:
        if seconds >= 1:
            sleeps.append(seconds)
            seconds = 0 if len(sleeps) < 4 else 3600  # parked: see the test above
            if len(sleeps) == 3:  # the PBX's side catches up with the rotated secret
                ami.secret = "rotated"
        await real_sleep(seconds)

    monkeypatch.setattr(ami_feed.asyncio, "sleep", quick_sleep)
    running = Feed(ami, recorder, secret="rotated")
    try:
        await ami.wait_for_logins(1)
        await until(lambda: running.feed.connected, "feed connected")
        await ami.drop()
        await until(lambda: len(sleeps) >= 4, "the back-off after the drop")
    finally:
        await running.stop()
    assert sleeps[:3] == [1, 2, 4]
    assert sleeps[3] == 1, "a good connection resets the back-off"


async def test_reconnecting_the_store_does_not_stop_the_event_loop(
        recorder: Recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a store failure the feed reconnects it; a PostgreSQL that takes its connect
    timeout must not freeze /metrics, /healthz and the other feeds meanwhile."""
    import time

    endpoint = parse_endpoint("CALLSLA_AMI_URL", "tcp://u:p@127.0.0.1:1", schemes={"tcp": 5038})
    feed = AmiFeed(endpoint=endpoint, recorder=recorder, catch_up=lambda: None)
    real_open = recorder.store.open_connection

    def slow_open() -> object:
        time.sleep(0.5)  # a database slow to answer
        return real_open()

    monkeypatch.setattr(recorder.store, "open_connection", slow_open)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:
        await feed.recover()
    finally:
        ticker.cancel()
    assert ticks >= 5
    assert recorder.store.count_legs() == 0  # the new connection works


async def test_the_call_flows_user_events_are_read_with_the_pbx_events(
        ami: FakeAmi, feed: Feed, recorder: Recorder, store: Store) -> None:
    """Sites without MQTT: the agi-server's `UserEvent: CallSLA` passes the feed's event filter
    and is recorded as MQTT's events are (monitor/ingest/ami_routing.py)."""
    status = sample_event("status_announced", pbx="unit")
    fields = userevent_fields(status.to_json(), event_id=status.event_id,
                              event_type=status.type)
    await ami.wait_for_logins(1)
    await until(lambda: feed.feed.connected, "feed connected")
    await ami.send(*CAPTURE[:FIRST_ANSWERED], {"Event": "UserEvent", **fields},
                   *CAPTURE[FIRST_ANSWERED:])
    await until(lambda: counts(recorder) == (2, 1, 1), "both callers counted")
    await until(lambda: len(store.status_announcements(datetime(2000, 1, 1, tzinfo=UTC),
                                                       datetime.now(UTC), pbx="unit")) == 1,
                "the status message stored")
    assert recorder.metrics.registry.get_sample_value(
        "callsla_status_announcement_interval_seconds_count",
        {"pbx": "unit", "queue": "", "department": "finance"}) == 1


def acks(ami: FakeAmi) -> list[str]:
    """The event ids the feed acknowledged, in order (its login's resend request left out)."""
    return [i for a in ami.actions_named("UserEvent") if a.get("UserEvent") == "CallSLAStored"
            for i in a["EventIDs"].split(",") if i]


def on_ami(event_type: str) -> tuple[str, dict[str, str]]:
    event = sample_event(event_type, pbx="unit")
    return event.event_id, {"Event": "UserEvent", **userevent_fields(
        event.to_json(), event_id=event.event_id, event_type=event.type)}


async def test_stored_call_flow_events_are_acknowledged_after_their_commit(
        ami: FakeAmi, feed: Feed, tmp_path: Path) -> None:
    """The agi-server keeps each outbox file until this acknowledgement (docs/events.md): when
    it goes, another connection to the store already sees the events it names."""
    committed_at_ack: list[set[str]] = []

    def check_the_store(action: dict[str, str]) -> list[dict[str, str]]:
        with open_store(f"sqlite:///{tmp_path}/feed.db") as other:
            committed_at_ack.append({e.event_id for e in other.call_events(
                datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC),
                pbx="unit")})
        return [{"Response": "Success", "Message": "Event Sent"}]

    ami.handlers["UserEvent"] = check_the_store
    first_id, first = on_ami("status_announced")
    second_id, second = on_ami("caller_choice")
    await ami.wait_for_logins(1)
    await until(lambda: feed.feed.connected, "feed connected")
    await ami.send(first, second)
    await until(lambda: acks(ami) == [first_id, second_id], "both acknowledged")
    await ami.send(first)  # a copy resent: dropped as a duplicate, acknowledged again
    await until(lambda: acks(ami) == [first_id, second_id, first_id], "the copy acknowledged")
    named = [set(a["EventIDs"].split(",")) for a in ami.actions_named("UserEvent")
             if a["EventIDs"]]
    assert len(named) == len(committed_at_ack) - 1  # the first is the login's resend request
    assert all(ids <= seen for ids, seen in zip(named, committed_at_ack[1:], strict=True))
    ack = ami.actions_named("UserEvent")[-1]
    assert (ack["UserEvent"], ack["PBX"]) == ("CallSLAStored", "unit")


async def test_no_acknowledgement_for_a_rejected_event_or_a_failed_commit(
        ami: FakeAmi, feed: Feed, recorder: Recorder, store: Store,
        monkeypatch: pytest.MonkeyPatch) -> None:
    bad_id, bad = on_ami("status_announced")
    bad["Part1"] = "bm90IGpzb24="  # base64 of "not json"
    lost_id, lost = on_ami("caller_choice")
    good_id, good = on_ami("transfer_returned")

    def failing(*args: object, **kwargs: object) -> bool:
        raise StoreError("disk full")

    await ami.wait_for_logins(1)
    await until(lambda: feed.feed.connected, "feed connected")
    await ami.send(bad)
    await until(lambda: source(recorder, "callsla_monitor_events_rejected_total") == 1,
                "rejected")
    with monkeypatch.context() as patch:
        patch.setattr(store, "record_event", failing)
        await ami.send(lost)
        await ami.wait_for_logins(2)  # the store failed: the feed logs in again
    await until(lambda: feed.feed.connected, "feed connected again")
    await ami.send(good)
    await until(lambda: acks(ami) == [good_id], "the good event acknowledged")
    assert bad_id not in acks(ami)
    assert lost_id not in acks(ami)
    requests = [a for a in ami.actions_named("UserEvent") if a.get("Resend") == "all"]
    assert len(requests) == 2, "each login asks for what was not stored (the lost event)"
