"""A recorded callback event tells the service at once (after its commit), so the callback
gauges move then, not at their 10-second refresh; other events and a second copy do not."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry

from monitor.core.metrics import create_call_metrics
from monitor.core.records import CallbackStatus
from monitor.ingest.flow_recorder import record_flow_event
from monitor.ingest.recorder import Recorder
from monitor.store import open_store
from tests.support.event_payloads import sample_event


def test_a_callback_event_calls_callbacks_changed_after_its_commit(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/flows.db"
    seen_open: list[int] = []

    def callbacks_changed() -> None:
        with open_store(url) as other:  # another connection sees only what is committed
            seen_open.append(len(other.callbacks(pbx="p", status=CallbackStatus.OPEN)))

    with open_store(url) as store:
        recorder = Recorder(store=store, metrics=create_call_metrics(CollectorRegistry()),
                            pbx="p", callbacks_changed=callbacks_changed)
        status = sample_event("status_announced")
        assert record_flow_event(recorder, status, payload=status.to_json().decode())
        assert seen_open == []
        created = sample_event("callback_created")
        assert record_flow_event(recorder, created, payload=created.to_json().decode())
        assert seen_open == [1]
        assert not record_flow_event(recorder, created, payload=created.to_json().decode())
        assert seen_open == [1], "a second copy changes nothing"
        closed = sample_event("callback_closed")
        assert record_flow_event(recorder, closed, payload=closed.to_json().decode())
        assert seen_open == [1, 0]
