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
from hypothesis import event as hypothesis_event
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from monitor.ami import AmiMessage, parse_message
from monitor.backfill.queue_log import QueueLogError, QueueLogReader, parse_queue_log_line
from monitor.core.events import EventSchemaError, parse_event, payload_text
from monitor.core.metrics import create_call_metrics
from monitor.core.settings import Endpoint
from monitor.ingest.call_state import HANDLED_EVENTS, AmiEventError, CallTracker
from monitor.ingest.flow_recorder import record_flow_event
from monitor.ingest.mqtt_feed import MqttFeed
from monitor.ingest.queue_announcements import HANDLED_EVENTS as ANNOUNCEMENT_EVENTS
from monitor.ingest.recorder import Recorder
from monitor.store import open_store
from tests.support.event_payloads import payloads, sample_event
from tests.support.fuzz_examples import examples

AMI_EVENTS = ["QueueCallerJoin", "QueueCallerLeave", "QueueCallerAbandon", "AgentConnect",
              "AgentCalled", "DialBegin", "DialEnd", "Hangup", "VarSet", "Newchannel"]
AMI_KEYS = ["uniqueid", "linkedid", "queue", "timestamp", "channel", "destchannel",
            "destuniqueid", "dialstatus", "variable", "value", "membername", "calleridnum"]

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
values = st.one_of(text, st.sampled_from(["1.1", "1.0", "frontdesk", "ANSWER", "CANCEL",
                                          "NOANSWER", "QUEUESTATUS", "TIMEOUT", "nan", "inf",
                                          "-1e308", "1795485505.6", "Local/r1@x-1;2"]))
ami_event = st.builds(
    lambda name, fields: AmiMessage({"event": name, **fields}),
    st.sampled_from(AMI_EVENTS), st.dictionaries(st.sampled_from(AMI_KEYS), values))


# no deadline in these tests: the machine is shared
@settings(max_examples=examples(100), deadline=None)
@given(st.lists(st.text(max_size=80), max_size=20))
def test_ami_framing_accepts_any_lines(lines: list[str]) -> None:
    message = parse_message(lines)
    # keys are kept lowercased (looked up case-insensitively); a line with no colon is output
    assert all(k == k.lower() for k in message)
    if any(":" not in line for line in lines):
        assert "output" in message
    assert len(message) <= len(lines)


@settings(max_examples=examples(100), deadline=None)
@given(st.lists(ami_event, max_size=60))
def test_the_state_machine_only_raises_its_own_error(events: list[AmiMessage]) -> None:
    tracker = CallTracker("p")
    for event in events:
        try:
            for update in tracker.on_event(event):
                assert update.leg.offered_at.tzinfo is not None
        except AmiEventError:
            pass


@settings(max_examples=examples(100), deadline=None)
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


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture],
          max_examples=examples(60),
          deadline=None)
@given(st.lists(st.one_of(queue_log_line, st.binary(max_size=30).map(
    lambda b: b.decode("latin-1"))), max_size=30))
def test_queue_log_reader_counts_bad_lines(tmp_path: Path, lines: list[str]) -> None:
    path = tmp_path / "queue_log"
    path.write_bytes("\n".join(lines).encode("utf-8", "replace") + b"\n")
    window, offset = QueueLogReader(path, pbx="p").read(0)
    assert offset == path.stat().st_size
    assert window.bad_lines <= window.lines


@pytest.fixture(scope="module")
def recorder() -> Iterator[Recorder]:
    """A monitor's recorder on a real SQLite store that has the callback the samples close."""
    with tempfile.TemporaryDirectory() as folder, \
            open_store(f"sqlite:///{folder}/flow-fuzz.db") as store:
        metrics = create_call_metrics(CollectorRegistry())
        the_recorder = Recorder(store=store, metrics=metrics, pbx="p")
        created = sample_event("callback_created", event_id="cb-fuzz-created")
        record_flow_event(the_recorder, created, payload=created.to_json().decode())
        yield the_recorder


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture],
          max_examples=examples(300),
          deadline=None)
@given(payloads)
def test_flow_events_parse_and_record_or_raise_event_schema_error(
        recorder: Recorder, payload: bytes) -> None:
    """Whatever arrives, parsing and recording it raise `EventSchemaError` or nothing."""
    try:
        text = payload_text(payload)
        event = parse_event(text)
        record_flow_event(recorder, event, payload=text)
    except EventSchemaError:
        hypothesis_event("refused")
    else:
        hypothesis_event(f"recorded {event.type}")


@pytest.fixture(scope="module")
def feed(recorder: Recorder) -> MqttFeed:
    return MqttFeed(endpoint=Endpoint("mqtt", "127.0.0.1", 1883, "", ""), recorder=recorder,
                    client_id="test-feed")


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture],
          max_examples=examples(80),
          deadline=None)
@given(payloads)
def test_mqtt_input_never_stops_the_feed_and_bad_input_is_counted(
        feed: MqttFeed, payload: bytes) -> None:
    registry = feed.recorder.metrics.registry
    before = registry.get_sample_value("callsla_monitor_events_rejected_total",
                                       {"pbx": "p", "source": "mqtt"}) or 0
    try:
        body = json.loads(payload)
    except (ValueError, RecursionError):
        body = None
    if isinstance(body, dict):
        body["event_id"] = f"{datetime.now(UTC).timestamp()}-{id(payload)}"
        payload = json.dumps(body).encode()
    bad_before = _bad_input_total(registry, "mqtt")
    accepted = feed.handle(payload)
    after = registry.get_sample_value("callsla_monitor_events_rejected_total",
                                      {"pbx": "p", "source": "mqtt"}) or 0
    assert after == before + (0 if accepted else 1)
    assert _bad_input_total(registry, "mqtt") == bad_before + (after - before)


def test_bad_ami_events_are_counted_not_raised(feed: MqttFeed) -> None:
    rejected = feed.recorder.on_ami_events([
        AmiMessage({"event": "QueueCallerJoin", "uniqueid": "9.1", "queue": "q"}),
        AmiMessage({"event": "QueueCallerJoin", "uniqueid": "9.1", "queue": "q",
                    "timestamp": "yesterday"}),
    ])
    assert rejected == 2


# Whole calls, as the recorder gets them: a few callers, every event the state machine and the
# queue announcements read, plausible values mostly increasing in time, some fields missing
# or odd. Covers call_state, queue_announcements, leg_counter and the store together.
CALL_EVENTS = sorted(HANDLED_EVENTS | ANNOUNCEMENT_EVENTS)
CALL_KEYS = ["uniqueid", "linkedid", "queue", "channel", "destchannel", "destuniqueid",
             "dialstatus", "dialstring", "variable", "value", "membername", "interface",
             "calleridnum", "calleridname", "context", "exten", "destexten", "position",
             "cause", "result", "forward", "transfertargetuniqueid"]
call_values = st.sampled_from(["1.1", "1.2", "2.1", "frontdesk", "PJSIP/101-0001",
                               "Local/r1@lab-phones-0001;1", "ANSWER", "CANCEL", "NOANSWER",
                               "BUSY", "CALLSLA_OFFICER_WAIT", "CALLSLA_CUSTOMER", "2101",
                               "from-pstn", "1", "0", "-3", "99999999999", "", "nan", "16",
                               "officer/2101", "\x00", "é" * 50])


@st.composite
def ami_calls(draw: st.DrawFn) -> list[AmiMessage]:
    clock = 1_795_485_505.0
    events = []
    for _ in range(draw(st.integers(min_value=1, max_value=40))):
        clock += draw(st.sampled_from([0.0, 0.2, 1.0, 7.5, 25.0, -3.0]))
        fields = draw(st.dictionaries(st.sampled_from(CALL_KEYS), call_values, max_size=8))
        stamp = draw(st.one_of(st.just(f"{clock:.6f}"), st.just(f"{clock:.6f}"),
                               st.sampled_from(["", "x", "1e400", "-1", "inf"])))
        fields.setdefault("uniqueid", draw(st.sampled_from(["1.1", "1.2", "2.1"])))
        events.append(AmiMessage({"event": draw(st.sampled_from(CALL_EVENTS)),
                                  "timestamp": stamp, **fields}))
    return events


def _bad_input_total(registry: CollectorRegistry, source: str) -> float:
    return sum(s.value for f in registry.collect() for s in f.samples
               if s.name == "callsla_monitor_bad_input_total" and s.labels["source"] == source)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture],
          max_examples=examples(60),
          deadline=None)
@given(ami_calls())
def test_any_ami_calls_are_recorded_or_counted_as_bad_input(
        recorder: Recorder, events: list[AmiMessage]) -> None:
    """The live AMI path (state machine, queue messages, counters, store) never raises on
    input; every refused event is counted once in callsla_monitor_bad_input_total."""
    registry = recorder.metrics.registry
    before = _bad_input_total(registry, "ami")
    rejected = recorder.on_ami_events(events)
    assert 0 <= rejected <= len(events)
    assert _bad_input_total(registry, "ami") == before + rejected
    hypothesis_event("some refused" if rejected else "all taken")
    offered = registry.get_sample_value("callsla_calls_offered_total",
                                        {"pbx": "p", "queue": "frontdesk", "department": ""})
    assert offered is None or offered >= 0
