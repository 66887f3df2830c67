"""One AMI batch, in order: the PBX's events to the call state, our `CallSLA` UserEvents to
the call-flow recording that MQTT's events go through.

A call-flow event is recorded after the PBX events that came before it and before those after
it (AMI's own order), so e.g. a `voicemail_left` finds the leg its call opened just before. The
connection names the PBX: a UserEvent on this PBX's AMI is this PBX's (like MQTT's topic).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from monitor.core.bad_input import kind_of
from monitor.core.events import EventSchemaError
from monitor.core.events_on_ami import is_call_flow_event, payload_from_userevent
from monitor.ingest.flow_recorder import record_flow_payload
from monitor.ingest.recorder import Recorder


def record_ami_events(recorder: Recorder, events: Iterable[Mapping[str, str]]) -> int:
    """Record a batch; returns how many events were rejected (bad input, skipped and logged)."""
    rejected = 0
    run: list[Mapping[str, str]] = []
    for event in events:
        if not is_call_flow_event(event):
            run.append(event)
            continue
        if run:
            rejected += recorder.on_ami_events(run)
            run = []
        if not record_userevent(recorder, event):
            rejected += 1
    if run:
        rejected += recorder.on_ami_events(run)
    return rejected


def record_userevent(recorder: Recorder, event: Mapping[str, str]) -> bool:
    """Record one `CallSLA` UserEvent (a copy already recorded is dropped); False if rejected."""
    try:
        record_flow_payload(recorder, payload_from_userevent(event), source="ami")
    except EventSchemaError as exc:
        recorder.bad_input.report(
            "ami", kind_of(exc),
            f"skipped AMI UserEvent {str(event.get('eventid', '?'))[:40]}: {exc}")
        return False
    return True
