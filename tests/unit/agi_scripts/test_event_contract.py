"""The contract between publisher and consumer of call-flow events: every type of `EVENT_TYPES`,
built as its publisher builds it (the call flows, `callsla officer set-status`, `callsla
callbacks close`) and put on the wire as the outbox sends it, is accepted by the monitor's path
(`parse_event` then `record_flow_event` on a real SQLite store) with the store effect it is for.
"""

from __future__ import annotations

import argparse
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest
from prometheus_client import CollectorRegistry

from agi_scripts.agi import AgiSession
from agi_scripts.flows import Call, CallFlows, FlowSettings, clean_caller_text
from agi_scripts.outbox import Outbox
from monitor.cli.officers import _queue_event
from monitor.core import events
from monitor.core.charter import load_charter
from monitor.core.directory import Officer, OfficerStatus
from monitor.core.metrics import create_call_metrics
from monitor.core.records import CallbackStatus
from monitor.ingest.callback_closing import close_callback
from monitor.ingest.flow_recorder import record_flow_event
from monitor.ingest.recorder import Recorder
from monitor.store import open_store

EVER = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
OFFICER = Officer(extension="2101", name="Encik Ahmad", department="finance", mailbox="2101",
                  status=OfficerStatus.IN, language="ms")


def wire(outbox: Outbox) -> list[str]:
    """The payloads as `MqttSender` publishes the outbox's files, in order."""
    sent = []
    for path in outbox.pending():
        stored = json.loads(path.read_bytes())
        sent.append(json.dumps(stored["payload"], ensure_ascii=False, sort_keys=True))
        path.unlink()
    return sent


@pytest.fixture
def monitor(tmp_path: Path) -> Iterator[Recorder]:
    with open_store(f"sqlite:///{tmp_path}/monitor.db") as store:
        yield Recorder(store=store, metrics=create_call_metrics(CollectorRegistry()), pbx="hq")


def test_every_published_event_is_accepted_with_its_store_effect(
        monitor: Recorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outbox = Outbox(tmp_path / "outbox")
    flows = CallFlows(FlowSettings(pbx="hq", charter=load_charter()), outbox)
    call = Call(session=cast(AgiSession, None), uniqueid="1763950000.13",
                linkedid="1763950000.12", caller_number=clean_caller_text('0312"|;$x', 32),
                caller_name=clean_caller_text("Puan Aminah\nbinti Ali"), language="ms",
                prompts="callsla", officer=OFFICER)
    callback_id = str(uuid.uuid4())
    now = flows.now()
    # As agi_scripts/flows.py publishes them, in a call's order.
    flows.publish(events.TransferAnnounced, call, officer_name=OFFICER.name, language="ms")
    flows.publish(events.StatusAnnounced, call, position=1, waited_seconds=0.012,
                  interval_seconds=None)
    flows.publish(events.StatusAnnounced, call, position=1, waited_seconds=20.013,
                  interval_seconds=20.001)
    flows.publish(events.CallerChoice, call, choice="1", where="waiting")
    flows.publish(events.TransferReturned, call, ring_seconds=20.4)
    flows.publish(events.VoicemailLeft, call, mailbox=OFFICER.mailbox,
                  message_id="callsla/2101/INBOX/msg0000", duration_seconds=12.5)
    flows.publish(events.CallbackCreated, call, callback_id=callback_id,
                  caller_number=call.caller_number, caller_name=call.caller_name,
                  matter=f"voicemail callsla/2101/INBOX/msg0000 for {OFFICER.name}",
                  due_at=now + timedelta(hours=flows.settings.charter.callback_due_hours))
    # As `callsla officer set-status 2101 out` queues it.
    monkeypatch.setenv("CALLSLA_OUTBOX", str(outbox.folder))
    monkeypatch.setenv("CALLSLA_PBX", "hq")
    _queue_event(argparse.Namespace(), OFFICER.extension, OFFICER.department, OfficerStatus.OUT)
    payloads = wire(outbox)

    for payload in payloads:
        assert record_flow_event(monitor, events.parse_event(payload.encode()), payload=payload)
    store = monitor.store
    # As `callsla callbacks close` publishes it: closed in the help desk's store (a copy of
    # the monitor's), then sent; the monitor applies it.
    with open_store(f"sqlite:///{tmp_path}/help-desk.db") as help_desk:
        help_desk.save_callback(store.get_callback("hq", callback_id))  # type: ignore[arg-type]
        close_callback(help_desk, callback_id, action_taken="Called back; licence renewed",
                       caller_informed_at=now, publish=outbox.put)
    (closing,) = wire(outbox)
    assert record_flow_event(monitor, events.parse_event(closing), payload=closing)
    payloads.append(closing)

    stored = store.call_events(*EVER, pbx="hq")
    assert {row.type for row in stored} == set(events.EVENT_TYPES)  # every type is covered
    assert sorted(row.payload for row in stored) == sorted(payloads)  # kept as received
    announcements = store.status_announcements(*EVER, pbx="hq")
    assert [(a.position, a.waited_seconds, a.interval_seconds, a.department, a.officer,
             a.call_id) for a in announcements] == [
        (1, 0.012, None, "finance", "2101", "1763950000.12"),
        (1, 20.013, 20.001, "finance", "2101", "1763950000.12")]
    registry = monitor.metrics.registry
    assert registry.get_sample_value("callsla_status_announcement_interval_seconds_count",
                                     {"pbx": "hq", "queue": "", "department": "finance"}) == 1
    assert registry.get_sample_value("callsla_voicemails_total",
                                     {"pbx": "hq", "queue": "", "department": "finance"}) == 1
    callback = store.get_callback("hq", callback_id)
    assert callback is not None
    assert (callback.caller_number, callback.caller_name, callback.officer,
            callback.department, callback.call_id) == (
        "0312    x", "Puan Aminah binti Ali", "2101", "finance", "1763950000.12")
    assert callback.due_at == now + timedelta(hours=flows.settings.charter.callback_due_hours)
    assert callback.status is CallbackStatus.CLOSED
    assert callback.action_taken == "Called back; licence renewed"
    assert callback.caller_informed_at == now

    # Redelivered, each is dropped by event_id and changes nothing.
    for payload in payloads:
        assert not record_flow_event(monitor, events.parse_event(payload), payload=payload)
    assert len(store.call_events(*EVER, pbx="hq")) == len(payloads)
    assert len(store.status_announcements(*EVER, pbx="hq")) == 2
