"""Random and mutated AMI, MQTT and queue_log input: parsers never crash, bad input is counted."""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from monitor.ami import AmiMessage, parse_message
from monitor.backfill.queue_log import QueueLogError, QueueLogReader, parse_queue_log_line
from monitor.core.metrics import create_call_metrics
from monitor.core.settings import Endpoint
from monitor.ingest.call_state import AmiEventError, CallTracker
from monitor.ingest.flow_events import FlowEventError, parse_flow_event
from monitor.ingest.mqtt_feed import MqttFeed
from monitor.ingest.recorder import Recorder
from monitor.store import open_store

AMI_EVENTS = ["QueueCallerJoin", "QueueCallerLeave", "QueueCallerAbandon", "AgentConnect",
              "AgentCalled", "DialBegin", "DialEnd", "Hangup", "VarSet", "Newchannel"]
AMI_KEYS = ["uniqueid", "linkedid", "queue", "timestamp", "channel", "destchannel",
            "destuniqueid", "dialstatus", "variable", "value", "membername", "calleridnum"]
VALID_FLOW = {"schema": 1, "event_id": "e1", "type": "status_announced", "pbx": "p",
              "timestamp": "2026-03-02T09:00:00+08:00", "call_id": "1.0", "uniqueid": "1.1",
              "department": "licensing", "officer": "2001", "position": 2,
              "waited_seconds": 20.0, "interval_seconds": 20.0}

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
values = st.one_of(text, st.sampled_from(["1.1", "1.0", "frontdesk", "ANSWER", "CANCEL",
                                          "NOANSWER", "QUEUESTATUS", "TIMEOUT", "nan", "inf",
                                          "-1e308", "1795485505.6", "Local/r1@x-1;2"]))
ami_event = st.builds(
    lambda name, fields: AmiMessage({"event": name, **fields}),
    st.sampled_from(AMI_EVENTS), st.dictionaries(st.sampled_from(AMI_KEYS), values))


@settings(deadline=None)  # no timing in tests: the machine is shared
@given(st.lists(st.text(max_size=80), max_size=20))
def test_ami_framing_accepts_any_lines(lines: list[str]) -> None:
    message = parse_message(lines)
    # keys are kept lowercased (looked up case-insensitively); a line with no colon is output
    assert all(k == k.lower() for k in message)
    if any(":" not in line for line in lines):
        assert "output" in message
    assert len(message) <= len(lines)


@settings(deadline=None)
@given(st.lists(ami_event, max_size=60))
def test_the_state_machine_only_raises_its_own_error(events: list[AmiMessage]) -> None:
    tracker = CallTracker("p")
    for event in events:
        try:
            for update in tracker.on_event(event):
                assert update.leg.offered_at.tzinfo is not None
        except AmiEventError:
            pass


@settings(deadline=None)
@given(st.text(max_size=200))
def test_queue_log_lines_parse_or_raise_queue_log_error(line: str) -> None:
    with contextlib.suppress(QueueLogError):
        parse_queue_log_line(line)


queue_log_line = st.builds(
    lambda t, u, e, data: "|".join([t, u, "frontdesk", "Reception 1", e, *data]),
    st.one_of(st.just("1795485505"), text), st.sampled_from(["1.1", "1.2", ""]),
    st.sampled_from(["ENTERQUEUE", "CONNECT", "ABANDON", "EXITWITHTIMEOUT", "EXITWITHKEY",
                     "EXITEMPTY", "RINGNOANSWER", "X"]),
    st.lists(st.one_of(st.just("3"), st.just("-4"), st.just("1e99"), text), max_size=4))


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60,
          deadline=None)
@given(st.lists(st.one_of(queue_log_line, st.binary(max_size=30).map(
    lambda b: b.decode("latin-1"))), max_size=30))
def test_queue_log_reader_counts_bad_lines(tmp_path: Path, lines: list[str]) -> None:
    path = tmp_path / "queue_log"
    path.write_bytes("\n".join(lines).encode("utf-8", "replace") + b"\n")
    window, offset = QueueLogReader(path, pbx="p").read(0)
    assert offset == path.stat().st_size
    assert window.bad_lines <= window.lines


def mutations() -> st.SearchStrategy[object]:
    def mutate(key: str, value: object, drop: bool) -> object:
        body = dict(VALID_FLOW)
        if drop:
            body.pop(key, None)
        else:
            body[key] = value
        return body
    json_values = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), text,
                            st.lists(st.integers(), max_size=2))
    return st.builds(mutate, st.sampled_from(sorted(VALID_FLOW)), json_values, st.booleans())


@settings(deadline=None)
@given(st.one_of(st.binary(max_size=100), mutations().map(
    lambda b: json.dumps(b).encode())))
def test_flow_events_parse_or_raise_flow_event_error(payload: bytes) -> None:
    with contextlib.suppress(FlowEventError):
        parse_flow_event(payload)


@pytest.fixture(scope="module")
def feed() -> Iterator[MqttFeed]:
    with tempfile.TemporaryDirectory() as folder, \
            open_store(f"sqlite:///{folder}/fuzz.db") as store:
        metrics = create_call_metrics(CollectorRegistry())
        recorder = Recorder(store=store, metrics=metrics, pbx="p")
        yield MqttFeed(endpoint=Endpoint("mqtt", "127.0.0.1", 1883, "", ""), recorder=recorder)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=80,
          deadline=None)
@given(st.one_of(st.binary(max_size=60), mutations().map(lambda b: json.dumps(b).encode())))
def test_mqtt_input_never_stops_the_feed_and_bad_input_is_counted(
        feed: MqttFeed, payload: bytes) -> None:
    registry = feed.recorder.metrics.registry
    before = registry.get_sample_value("callsla_monitor_events_rejected_total",
                                       {"pbx": "p", "source": "mqtt"}) or 0
    try:
        body = json.loads(payload)
    except ValueError:
        body = None
    if isinstance(body, dict):
        body["event_id"] = f"{datetime.now(UTC).timestamp()}-{id(payload)}"
        payload = json.dumps(body).encode()
    accepted = feed.handle(payload)
    after = registry.get_sample_value("callsla_monitor_events_rejected_total",
                                      {"pbx": "p", "source": "mqtt"}) or 0
    assert after == before + (0 if accepted else 1)


def test_bad_ami_events_are_counted_not_raised(feed: MqttFeed) -> None:
    rejected = feed.recorder.on_ami_events([
        AmiMessage({"event": "QueueCallerJoin", "uniqueid": "9.1", "queue": "q"}),
        AmiMessage({"event": "QueueCallerJoin", "uniqueid": "9.1", "queue": "q",
                    "timestamp": "yesterday"}),
    ])
    assert rejected == 2
