"""Applies one call-flow event (from the AGI scripts) to the store and counters, exactly once."""

from __future__ import annotations

from datetime import timedelta

from monitor.core.records import Callback, StatusAnnouncement
from monitor.ingest.flow_events import FlowEvent, FlowEventError
from monitor.ingest.recorder import Recorder
from monitor.store import CallEvent


def record_flow_event(recorder: Recorder, event: FlowEvent, *, source: str = "mqtt") -> bool:
    """Store the event and what follows from it in one commit; False for a redelivered copy.

    The caller acknowledges the MQTT message only after this returns, so a crash before the
    commit means redelivery, and redelivery is dropped here by event_id.
    """
    store, metrics, pbx = recorder.store, recorder.metrics, recorder.pbx
    observations: list[tuple[str, float]] = []
    voicemail = False
    with store.batch():
        if not store.record_event(CallEvent(pbx=pbx, event_id=event.event_id, source=source,
                                            type=event.type, call_id=event.call_id,
                                            occurred_at=event.timestamp,
                                            payload=event.payload)):
            return False
        if event.type == "transfer_announced":
            recorder.tracker.set_routing(event.call_id, event.department, event.officer)
        elif event.type == "status_announced":
            interval = event.number("interval_seconds", optional=True)
            position = event.number("position")
            store.save_status_announcement(StatusAnnouncement(
                pbx=pbx, event_id=event.event_id, call_id=event.call_id,
                uniqueid=event.uniqueid, department=event.department, officer=event.officer,
                announced_at=event.timestamp, position=int(position or 0),
                waited_seconds=event.number("waited_seconds") or 0.0,
                interval_seconds=interval))
            if interval is not None:
                observations.append((event.department, interval))
        elif event.type == "voicemail_left":
            voicemail = True
            recorder.apply(recorder.tracker.voicemail(event.uniqueid, event.call_id))
        elif event.type == "callback_created":
            due = event.time("due_at")
            store.save_callback(Callback(
                pbx=pbx, callback_id=event.text("callback_id"), call_id=event.call_id,
                officer=event.officer, department=event.department,
                caller_name=event.text("caller_name"), contacted_at=event.timestamp,
                caller_number=event.text("caller_number"), matter=event.text("matter"),
                due_at=due or event.timestamp + timedelta(days=1)))
        elif event.type == "callback_closed":
            done = event.time("done_at")
            if done is None:
                raise FlowEventError("callback_closed: done_at missing")
            if store.get_callback(pbx, event.text("callback_id")) is None:
                raise FlowEventError("callback_closed: no such callback_id")
            store.close_callback(pbx, event.text("callback_id"),
                                 action_taken=event.text("action_taken"), done_at=done,
                                 caller_informed_at=event.time("caller_informed_at",
                                                               optional=True))
    for department, interval in observations:
        metrics.status_interval.labels(pbx, department).observe(interval)
    if voicemail:
        metrics.voicemails.labels(pbx, "", event.department).inc()
    return True
