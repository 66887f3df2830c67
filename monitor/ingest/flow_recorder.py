"""Applies one call-flow event (from the AGI scripts) to the store and counters, exactly once.

Both transports end here: MQTT (`mqtt_feed.py`) and AMI UserEvents (`ami_routing.py`) hand over
the same JSON text, and an event that came both ways is recorded once, by its event_id."""

from __future__ import annotations

from monitor.core.events import (
    CallbackClosed,
    CallbackCreated,
    CallEvent,
    EventSchemaError,
    StatusAnnounced,
    TransferAnnounced,
    VoicemailLeft,
    parse_event,
    payload_text,
)
from monitor.core.records import Callback, StatusAnnouncement
from monitor.ingest.callback_closing import CallbackError, apply_callback_closed
from monitor.ingest.recorder import Recorder
from monitor.store import StoredEvent


def record_flow_payload(recorder: Recorder, payload: bytes | str, *, source: str) -> bool:
    """Parse one event as a transport carried it (schema-1 JSON) and record it; False for a
    copy already recorded. Raises `EventSchemaError` for a bad payload, with nothing written."""
    text = payload_text(payload)
    return record_flow_event(recorder, parse_event(text), payload=text, source=source)


def record_flow_event(recorder: Recorder, event: CallEvent, *, payload: str,
                      source: str = "mqtt") -> bool:
    """Store the event (with `payload`, its original JSON text) and what follows from it in one
    commit; False for a redelivered copy. Raises `EventSchemaError` for an event that cannot
    apply (e.g. closing a callback this store does not have), with nothing written.

    The caller acknowledges the MQTT message only after this returns, so a crash before the
    commit means redelivery, and redelivery is dropped here by event_id.
    """
    store, metrics, pbx = recorder.store, recorder.metrics, recorder.pbx
    with store.batch():
        if not store.record_event(StoredEvent.of(event, pbx=pbx, source=source,
                                                 payload=payload)):
            return False
        match event:
            case TransferAnnounced():
                recorder.tracker.set_routing(event.call_id, event.department, event.officer)
            case StatusAnnounced():
                store.save_status_announcement(StatusAnnouncement(
                    pbx=pbx, event_id=event.event_id, call_id=event.call_id,
                    uniqueid=event.uniqueid, department=event.department,
                    officer=event.officer, announced_at=event.timestamp,
                    position=event.position, waited_seconds=event.waited_seconds,
                    interval_seconds=event.interval_seconds))
            case VoicemailLeft():
                recorder.apply(recorder.tracker.voicemail(event.uniqueid, event.call_id))
            case CallbackCreated():
                store.save_callback(Callback(
                    pbx=pbx, callback_id=event.callback_id, call_id=event.call_id,
                    officer=event.officer, department=event.department,
                    caller_name=event.caller_name, contacted_at=event.timestamp,
                    caller_number=event.caller_number, matter=event.matter,
                    due_at=event.due_at))
            case CallbackClosed():
                try:
                    apply_callback_closed(store, event, pbx=pbx)
                except CallbackError as exc:
                    raise EventSchemaError(f"callback_closed: {exc}") from exc
    # Counters move only after the commit: a rolled-back event has counted nothing.
    if isinstance(event, StatusAnnounced) and event.interval_seconds is not None:
        metrics.status_interval.labels(pbx, "", event.department).observe(
            event.interval_seconds)
    if isinstance(event, VoicemailLeft):
        metrics.voicemails.labels(pbx, "", event.department).inc()
    if isinstance(event, CallbackCreated | CallbackClosed) and recorder.callbacks_changed:
        recorder.callbacks_changed()
    return True
