"""An AMI batch with the call flows' UserEvents in it: the PBX's events go to the call state and
ours to the call-flow recording MQTT uses, in AMI's order; an event that came both ways counts
once; a damaged one is rejected and the rest of the batch is recorded."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from monitor.ami import parse_message
from monitor.core.events import CallEvent
from monitor.core.events_on_ami import userevent_fields
from monitor.core.metrics import create_call_metrics
from monitor.core.settings import parse_endpoint
from monitor.ingest.ami_routing import record_ami_events
from monitor.ingest.mqtt_feed import MqttFeed
from monitor.ingest.recorder import Recorder
from monitor.store import open_store
from tests.support.event_payloads import sample_event
from tests.support.fake_ami import read_capture

CAPTURE = read_capture(Path(__file__).parents[3] / "data" / "ami_answered_then_abandoned.txt")
EVER = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
INTERVAL = {"pbx": "unit", "queue": "", "department": "finance"}


@pytest.fixture
def recorder(tmp_path: Path) -> Iterator[Recorder]:
    with open_store(f"sqlite:///{tmp_path}/routing.db") as store:
        recorder = Recorder(store=store, metrics=create_call_metrics(CollectorRegistry()),
                            pbx="unit")
        recorder.start()
        yield recorder


def pbx_events() -> list[Mapping[str, str]]:
    """The capture as the AMI client parses it (keys lower-cased)."""
    return [parse_message([f"{k}: {v}" for k, v in e.items()]) for e in CAPTURE]


def on_ami(event: CallEvent) -> Mapping[str, str]:
    """`event` as the monitor's AMI client receives the agi-server's UserEvent."""
    fields = userevent_fields(event.to_json(), event_id=event.event_id, event_type=event.type)
    return parse_message(["Event: UserEvent", "Privilege: user,all",
                          "Timestamp: 1795485506.000000", "ActionID: callsla-3",
                          *(f"{k}: {v}" for k, v in fields.items())])


def intervals(recorder: Recorder) -> float:
    return recorder.metrics.registry.get_sample_value(
        "callsla_status_announcement_interval_seconds_count", INTERVAL) or 0.0


def test_user_events_are_recorded_between_the_pbx_events_around_them(
        recorder: Recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    order: list[str] = []
    to_state = recorder.on_ami_events

    def seen_by_state(events: list[Mapping[str, str]]) -> int:
        order.extend(str(e.get("event")) for e in events)
        return to_state(events)

    monkeypatch.setattr(recorder, "on_ami_events", seen_by_state)
    status = sample_event("status_announced", pbx="unit")
    real = recorder.store.record_event

    def stored(event: object) -> bool:
        order.append("stored call-flow event")
        return real(event)  # type: ignore[arg-type]

    monkeypatch.setattr(recorder.store, "record_event", stored)
    pbx = pbx_events()
    assert record_ami_events(recorder, [*pbx[:3], on_ami(status), *pbx[3:]]) == 0
    assert order == [*(e["event"] for e in pbx[:3]), "stored call-flow event",
                     *(e["event"] for e in pbx[3:])]
    assert intervals(recorder) == 1
    assert len(recorder.store.legs_of_call("1795485505.0")) == 1  # the PBX's events counted


def test_an_event_that_came_by_mqtt_and_by_ami_counts_once(recorder: Recorder) -> None:
    status = sample_event("status_announced", pbx="unit")
    endpoint = parse_endpoint("mqtt", "mqtt://127.0.0.1:1883", schemes={"mqtt": 1883})
    feed = MqttFeed(endpoint=endpoint, recorder=recorder, client_id="callsla-monitor-unit")
    assert feed.handle(status.to_json())
    assert record_ami_events(recorder, [on_ami(status)]) == 0
    assert record_ami_events(recorder, [on_ami(status)]) == 0  # a second AMI copy too
    assert intervals(recorder) == 1
    [row] = recorder.store.call_events(*EVER, pbx="unit")
    assert row.source == "mqtt"


def test_a_damaged_user_event_is_rejected_and_the_batch_goes_on(
        recorder: Recorder, caplog: pytest.LogCaptureFixture) -> None:
    status = sample_event("status_announced", pbx="unit")
    damaged = {**on_ami(status), "part1": "!!"}
    other_app = parse_message(["Event: UserEvent", "UserEvent: SomebodyElse", "Data: 1"])
    assert record_ami_events(recorder, [damaged, other_app, *pbx_events()]) == 1
    assert "skipped AMI UserEvent" in caplog.text
    assert status.event_id in caplog.text
    assert intervals(recorder) == 0
    assert len(recorder.store.legs_of_call("1795485505.0")) == 1
    callback = sample_event("callback_created", pbx="unit")
    assert record_ami_events(recorder, [on_ami(callback)]) == 0
    assert recorder.store.get_callback("unit", callback.callback_id) is not None  # type: ignore[attr-defined]


def test_the_ids_handed_back_for_acknowledgement_are_those_now_in_the_store(
        recorder: Recorder) -> None:
    """A stored event and a copy already stored are acknowledged; a rejected one is not."""
    status = sample_event("status_announced", pbx="unit")
    choice = sample_event("caller_choice", pbx="unit")
    damaged = {**on_ami(choice), "part1": "!!"}
    stored: list[str] = []
    assert record_ami_events(recorder, [*pbx_events()[:2], on_ami(status), damaged,
                                        on_ami(status)], stored=stored) == 1
    assert stored == [status.event_id, status.event_id]
    assert [e.event_id for e in recorder.store.call_events(*EVER, pbx="unit")] == [
        status.event_id]
