"""Call-flow events over the real Mosquitto: kept while the monitor is down (persistent QoS 1
session), each counted once however often it is delivered, garbage counted and skipped."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiomqtt

from lab import Lab
from monitor.core.events import topic
from monitor.core.records import CallbackStatus
from monitor.store import open_store
from tests.support.monitor_run import MonitorRun, wait_for


def event(pbx: str, kind: str, **extra: object) -> dict[str, object]:
    return {"schema": 1, "event_id": str(uuid.uuid4()), "type": kind, "pbx": pbx,
            "timestamp": datetime.now(UTC).isoformat(), "call_id": "77.0", "uniqueid": "77.1",
            "department": "licensing", "officer": "2001", **extra}


async def test_events_sent_while_the_monitor_is_down_are_counted_once(
        lab: Lab, tmp_path: Path) -> None:
    pbx = f"lab-mqtt-{uuid.uuid4().hex[:6]}"
    db_url = f"sqlite:///{tmp_path}/mqtt.db"
    run = MonitorRun(lab, db_url, pbx=pbx, queue_log=False)
    await asyncio.to_thread(run.start)  # creates the persistent session
    run.stop()
    due = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    status = [event(pbx, "status_announced", position=3 - n, waited_seconds=20.0 * n,
                    interval_seconds=None if n == 0 else 20.0 + n / 1000) for n in range(3)]
    messages = [
        *status, status[1],  # one delivered twice
        event(pbx, "voicemail_left", mailbox="2001@default", message_id="m1",
              duration_seconds=12.5),
        event(pbx, "callback_created", callback_id="cb-1", caller_number="0123",
              caller_name="Aminah", matter="vm m1", due_at=due),
        event(pbx, "callback_created", callback_id="cb-2", caller_number="0124",
              caller_name="Ali", matter="vm m2", due_at=due),
        event(pbx, "callback_closed", callback_id="cb-2", action_taken="called back",
              done_at=datetime.now(UTC).isoformat(), caller_informed_at=None),
    ]
    async with aiomqtt.Client("127.0.0.1", lab.config.ports.mqtt, username="callsla-agi",
                              password=lab.config.ami_secret) as pub:  # the publishers' user
        for message in messages:
            await pub.publish(topic(pbx, str(message["type"])), json.dumps(message),
                              qos=1)
        await pub.publish(topic(pbx, "garbage"), b"\xff{not json", qos=1)
    await asyncio.to_thread(run.start)
    try:
        def interval_count() -> float:
            return run.value("callsla_status_announcement_interval_seconds_count", pbx=pbx)
        await asyncio.to_thread(wait_for, lambda: run.value(
            "callsla_monitor_events_total", pbx=pbx, source="mqtt") == len(messages) + 1,
            20, "every MQTT message read")
        assert interval_count() == 2
        assert run.value("callsla_status_announcement_interval_seconds_bucket", pbx=pbx,
                         department="licensing", le="20.0") == 0
        assert run.value("callsla_status_announcement_interval_seconds_bucket", pbx=pbx,
                         department="licensing", le="20.5") == 2
        assert run.value("callsla_voicemails_total", pbx=pbx, department="licensing") == 1
        assert run.value("callsla_monitor_events_rejected_total", pbx=pbx, source="mqtt") == 1
        await asyncio.to_thread(wait_for, lambda: run.value(
            "callsla_callbacks_overdue", pbx=pbx, department="licensing") == 1, 15,
            "callback gauges")
        assert run.value("callsla_callbacks_open", pbx=pbx, department="licensing") == 1
        with open_store(db_url) as store:
            assert [c.callback_id for c in store.callbacks(status=CallbackStatus.CLOSED)] == [
                "cb-2"]
            assert len(store.status_announcements(datetime(2000, 1, 1, tzinfo=UTC),
                                                  datetime.now(UTC) + timedelta(1))) == 3
        # A restart rebuilds the same values from the store.
        run.stop()
        await asyncio.to_thread(run.start)
        assert interval_count() == 2
        assert run.value("callsla_voicemails_total", pbx=pbx, department="licensing") == 1
    finally:
        run.stop()
