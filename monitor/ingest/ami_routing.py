"""One AMI batch, in order: the PBX's events to the call state, our `CallSLA` UserEvents to
the call-flow recording that MQTT's events go through.

A call-flow event is recorded after the PBX events that came before it and before those after
it (AMI's own order), so e.g. a `voicemail_left` finds the leg its call opened just before. The
connection names the PBX: a UserEvent on this PBX's AMI is this PBX's (like MQTT's topic).
The ids of the events committed (or found already stored) are handed back for the feed to
acknowledge (`monitor/core/acks_on_ami.py`); a rejected event is not acknowledged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from monitor.core.bad_input import kind_of
from monitor.core.events import EventSchemaError, parse_event
from monitor.core.events_on_ami import is_call_flow_event, payload_from_userevent
from monitor.ingest.flow_recorder import record_flow_event
from monitor.ingest.recorder import Recorder


def record_ami_events(recorder: Recorder, events: Iterable[Mapping[str, str]], *,
                      stored: list[str] | None = None) -> int:
    """Record a batch; returns how many events were rejected (bad input, skipped and logged).
    The event_id of each call-flow event now in the store is appended to `stored`."""
    rejected = 0
    run: list[Mapping[str, str]] = []
    for event in events:
        if not is_call_flow_event(event):
            run.append(event)
            continue
        if run:
            rejected += recorder.on_ami_events(run)
            run = []
        event_id = record_userevent(recorder, event)
        if event_id is None:
            rejected += 1
        elif stored is not None:
            stored.append(event_id)
    if run:
        rejected += recorder.on_ami_events(run)
    return rejected


def record_userevent(recorder: Recorder, event: Mapping[str, str]) -> str | None:
    """Record one `CallSLA` UserEvent (a copy already recorded is dropped) and commit; its
    event_id once stored, None if rejected. A failed commit raises `StoreError`."""
    try:
        text = payload_from_userevent(event)
        flow_event = parse_event(text)
        record_flow_event(recorder, flow_event, payload=text, source="ami")
    except EventSchemaError as exc:
        recorder.bad_input.report(
            "ami", kind_of(exc),
            f"skipped AMI UserEvent {str(event.get('eventid', '?'))[:40]}: {exc}")
        return None
    return flow_event.event_id
