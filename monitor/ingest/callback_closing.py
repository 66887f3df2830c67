"""Closing a callback (the help desk's record (e) and (f), charter T-h): one rule for every way in.

`close_callback` is what the help desk does, from `callsla callbacks close` or a web console: it
checks the request, closes the record in the store in one commit with the `callback_closed`
event that says so, then hands that event on to be published, so that other monitors and
dashboards see the close. `apply_callback_closed` is what a monitor does with such an event
from MQTT. Both check the same things; closing a closed callback again changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from monitor.core.events import CallbackClosed, EventSchemaError
from monitor.core.records import Callback, CallbackStatus
from monitor.store import Store, StoredEvent

Publish = Callable[[CallbackClosed], object]


class CallbackError(ValueError):
    """A callback cannot be found or closed as asked; the message says why in one line."""


def find_callback(store: Store, callback_id: str, *, pbx: str | None = None) -> Callback:
    """The callback with this id (on `pbx`, or on the one PBX that has it)."""
    found = [cb for cb in store.callbacks(pbx=pbx) if cb.callback_id == callback_id]
    if not found:
        raise CallbackError(f"no callback {callback_id!r}" + (f" on pbx {pbx!r}" if pbx else ""))
    if len(found) > 1:
        raise CallbackError(f"callback {callback_id!r} exists on several PBXs; give --pbx")
    return found[0]


def close_callback(store: Store, callback_id: str, *, action_taken: str,
                   done_at: datetime | None = None, caller_informed_at: datetime | None = None,
                   pbx: str | None = None, publish: Publish | None = None,
                   now: datetime | None = None, source: str = "cli") -> Callback:
    """Record (e) the action taken and (f) when it was done and the caller told.

    Raises `CallbackError` for an unknown or already closed callback, an empty action or a
    time that cannot be right. The event is published (if `publish` is given) after the
    commit; the monitor sharing this store drops it as already recorded (same event_id).
    """
    callback = find_callback(store, callback_id, pbx=pbx)
    if callback.status is CallbackStatus.CLOSED:
        raise CallbackError(f"callback {callback_id!r} was already closed "
                            f"({callback.done_at.isoformat() if callback.done_at else '-'})")
    now = now or datetime.now(UTC)
    try:
        event = CallbackClosed(
            pbx=callback.pbx, timestamp=now, call_id=callback.call_id, uniqueid="",
            department=callback.department, officer=callback.officer,
            callback_id=callback.callback_id, action_taken=action_taken.strip(),
            done_at=done_at or now, caller_informed_at=caller_informed_at)
    except EventSchemaError as exc:
        raise CallbackError(str(exc)) from exc
    with store.batch():  # the event and the close commit together, or neither
        store.record_event(StoredEvent.of(event, pbx=callback.pbx, source=source,
                                          payload=event.to_json().decode()))
        closed = _close(store, callback, event)
    if publish is not None:
        publish(event)
    return closed


def apply_callback_closed(store: Store, event: CallbackClosed, *, pbx: str) -> Callback | None:
    """Close the stored callback as the event says; None if it was closed already (a
    redelivery, or a close made here first). Raises `CallbackError` if it cannot apply."""
    callback = store.get_callback(pbx, event.callback_id)
    if callback is None:
        raise CallbackError(f"no callback {event.callback_id!r} for pbx {pbx!r}")
    if callback.status is CallbackStatus.CLOSED:
        return None
    return _close(store, callback, event)


def _close(store: Store, callback: Callback, event: CallbackClosed) -> Callback:
    if not event.action_taken.strip():
        raise CallbackError("closing a callback needs --action TEXT: what was done for the caller")
    if event.done_at < callback.contacted_at:
        raise CallbackError(f"--done-at {event.done_at.isoformat()} is before the message was "
                            f"left ({callback.contacted_at.isoformat()})")
    return store.close_callback(callback.pbx, callback.callback_id,
                                action_taken=event.action_taken, done_at=event.done_at,
                                caller_informed_at=event.caller_informed_at)
