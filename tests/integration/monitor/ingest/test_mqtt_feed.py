"""Call-flow events over the real Mosquitto: kept while the monitor is down (persistent QoS 1
session), each counted once however often it is delivered, garbage counted and skipped, and
none lost when the broker restarts."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiomqtt

from agi_scripts.outbox import MqttSender, Outbox
from lab import Lab
from monitor.core.events import VoicemailLeft, topic
from monitor.core.records import CallbackStatus
from monitor.core.settings import parse_endpoint
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
        assert run.value("callsla_monitor_bad_input_total", pbx=pbx, source="mqtt",
                         kind="not_utf_8") == 1
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


async def test_a_broker_restart_loses_no_event(lab: Lab, tmp_path: Path) -> None:
    """30 calls' messages (voicemail_left), 10 before, 10 while Mosquitto is down and 10 after
    it is back, sent by the call flows' own outbox sender: the outbox keeps them while the
    broker is away, the monitor's feed reconnects by itself, and each is counted once."""
    pbx = f"lab-broker-{uuid.uuid4().hex[:6]}"
    db_url = f"sqlite:///{tmp_path}/broker.db"
    run = MonitorRun(lab, db_url, pbx=pbx, queue_log=False)
    await asyncio.to_thread(run.start)
    outbox = Outbox(tmp_path / "outbox")
    endpoint = parse_endpoint("mqtt", lab.config.mqtt_url, schemes={"mqtt": 1883})
    sender = MqttSender(outbox, endpoint, client_id=f"callsla-agi-{pbx}", retry_seconds=0.5)
    sending = asyncio.create_task(sender.run())

    def put_calls(first: int) -> None:
        for n in range(first, first + 10):
            outbox.put(VoicemailLeft(pbx=pbx, timestamp=datetime.now(UTC), call_id=f"{n}.0",
                                     uniqueid=f"{n}.1", department="licensing",
                                     officer="2001", mailbox="2001@default",
                                     message_id=f"msg{n:04d}", duration_seconds=5.0))

    def voicemails() -> float:
        return run.value("callsla_voicemails_total", pbx=pbx)

    try:
        put_calls(0)
        await asyncio.to_thread(wait_for, lambda: voicemails() == 10, 20, "10 before")
        await asyncio.to_thread(lab.mosquitto.stop)
        await asyncio.to_thread(wait_for, lambda: run.value(
            "callsla_monitor_source_connected", pbx=pbx, source="mqtt") == 0, 20,
            "the feed sees the broker gone")
        put_calls(10)
        await asyncio.sleep(1.0)
        assert len(outbox.pending()) == 10  # kept on disk while the broker is away
        await asyncio.to_thread(lab.mosquitto.start)
        put_calls(20)
        await asyncio.to_thread(wait_for, lambda: voicemails() == 30, 40,
                                "all 30 once the broker is back")
        assert outbox.pending() == []
        assert run.value("callsla_monitor_source_connected", pbx=pbx, source="mqtt") == 1
        await asyncio.sleep(1.0)  # nothing counted twice after the reconnect
        assert voicemails() == 30
        with open_store(db_url) as store:
            stored = store.call_events(datetime(2000, 1, 1, tzinfo=UTC),
                                       datetime.now(UTC) + timedelta(1), pbx=pbx,
                                       event_type="voicemail_left")
        assert sorted(e.call_id for e in stored) == sorted(f"{n}.0" for n in range(30))
    finally:
        sending.cancel()
        run.stop()
        if not lab.mosquitto.process.running():
            lab.mosquitto.start()
