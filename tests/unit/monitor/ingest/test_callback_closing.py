"""One way to close a callback: checked, stored with its event in one commit, then published;
the same event from MQTT closes it in another monitor's store, and a second close is a no-op."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from monitor.core.events import CallbackClosed, EventSchemaError, parse_event
from monitor.core.metrics import create_call_metrics
from monitor.core.records import CallbackStatus
from monitor.ingest.callback_closing import CallbackError, close_callback
from monitor.ingest.flow_recorder import record_flow_event
from monitor.ingest.recorder import Recorder
from monitor.store import Store, open_store
from tests.support.event_payloads import AT, sample_event

EVER = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


def monitor_with_the_callback(path: Path) -> Recorder:
    """A monitor's recorder whose store has callback `cb-fuzz`, opened by its MQTT event."""
    store = open_store(f"sqlite:///{path}")
    recorder = Recorder(store=store, metrics=create_call_metrics(CollectorRegistry()), pbx="p")
    created = sample_event("callback_created")
    assert record_flow_event(recorder, created, payload=created.to_json().decode())
    return recorder


@pytest.fixture
def here(tmp_path: Path) -> Iterator[Recorder]:
    recorder = monitor_with_the_callback(tmp_path / "here.db")
    yield recorder
    recorder.store.close()


@pytest.fixture
def there(tmp_path: Path) -> Iterator[Recorder]:
    recorder = monitor_with_the_callback(tmp_path / "there.db")
    yield recorder
    recorder.store.close()


def closed_events(store: Store) -> list[CallbackClosed]:
    found = [parse_event(row.payload) for row in store.call_events(*EVER,
                                                                    event_type="callback_closed")]
    return [event for event in found if isinstance(event, CallbackClosed)]


def test_close_stores_the_record_and_its_event_then_publishes(here: Recorder) -> None:
    published: list[CallbackClosed] = []
    done = AT + timedelta(hours=2)
    closed = close_callback(here.store, "cb-fuzz", action_taken="  Called back; renewed ",
                            done_at=done, caller_informed_at=done, publish=published.append)
    assert closed.status is CallbackStatus.CLOSED
    assert (closed.action_taken, closed.done_at, closed.caller_informed_at) == (
        "Called back; renewed", done, done)
    assert here.store.get_callback("p", "cb-fuzz") == closed
    (event,) = published
    assert (event.pbx, event.callback_id, event.action_taken, event.done_at,
            event.caller_informed_at) == ("p", "cb-fuzz", "Called back; renewed", done, done)
    assert (event.call_id, event.department, event.officer) == (
        closed.call_id, closed.department, closed.officer)
    assert closed_events(here.store) == [event]  # kept for audit like any received event
    (row,) = here.store.call_events(*EVER, event_type="callback_closed")
    assert row.source == "cli"
    # The copy that comes back over MQTT to the monitor sharing this store is a redelivery.
    assert record_flow_event(here, event, payload=event.to_json().decode()) is False


def test_the_published_close_closes_the_callback_in_another_store(here: Recorder,
                                                                  there: Recorder) -> None:
    published: list[CallbackClosed] = []
    close_callback(here.store, "cb-fuzz", action_taken="called back", publish=published.append)
    (event,) = published
    assert record_flow_event(there, parse_event(event.to_json()),
                             payload=event.to_json().decode()) is True
    assert there.store.get_callback("p", "cb-fuzz") == here.store.get_callback("p", "cb-fuzz")


def test_a_second_close_event_for_a_closed_callback_is_a_no_op(there: Recorder) -> None:
    first = sample_event("callback_closed", action_taken="first")
    again = sample_event("callback_closed", action_taken="second")  # another event_id
    for event in (first, again):
        assert record_flow_event(there, event, payload=event.to_json().decode()) is True
    assert record_flow_event(there, again, payload=again.to_json().decode()) is False
    callback = there.store.get_callback("p", "cb-fuzz")
    assert callback is not None
    assert callback.action_taken == "first"


def test_unknown_or_closed_callbacks_are_clear_errors_and_publish_nothing(
        here: Recorder) -> None:
    published: list[CallbackClosed] = []
    with pytest.raises(CallbackError, match="no callback 'cb-nope'"):
        close_callback(here.store, "cb-nope", action_taken="x", publish=published.append)
    close_callback(here.store, "cb-fuzz", action_taken="done")
    with pytest.raises(CallbackError, match="already closed"):
        close_callback(here.store, "cb-fuzz", action_taken="again", publish=published.append)
    assert published == []
    assert len(closed_events(here.store)) == 1


@pytest.mark.parametrize(("change", "message"), [
    ({"action_taken": " "}, "needs --action TEXT"),
    ({"done_at": AT - timedelta(days=1)}, "before the message was left"),
    ({"done_at": datetime(2026, 11, 24, 12, 0)}, "done_at: must carry a time zone"),
    ({"caller_informed_at": datetime(1900, 1, 1, tzinfo=UTC)}, "caller_informed_at"),
    ({"action_taken": "x" * 1001}, "action_taken: longer than"),
])
def test_a_bad_close_writes_and_publishes_nothing(here: Recorder, change: dict[str, object],
                                                  message: str) -> None:
    published: list[CallbackClosed] = []
    request: dict[str, object] = {"action_taken": "called back", **change}
    with pytest.raises(CallbackError, match=message):
        close_callback(here.store, "cb-fuzz", publish=published.append,
                       **request)  # type: ignore[arg-type]
    assert published == []
    assert closed_events(here.store) == []
    callback = here.store.get_callback("p", "cb-fuzz")
    assert callback is not None
    assert callback.status is CallbackStatus.OPEN


def test_an_event_for_a_callback_the_store_lacks_is_rejected(there: Recorder) -> None:
    event = sample_event("callback_closed", callback_id="cb-elsewhere")
    with pytest.raises(EventSchemaError, match="no callback 'cb-elsewhere'"):
        record_flow_event(there, event, payload=event.to_json().decode())
    assert closed_events(there.store) == []  # rolled back with the close
