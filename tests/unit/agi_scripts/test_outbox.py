"""The outbox keeps events on disk in the order they happened, whole, until they are sent."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agi_scripts.outbox import Outbox
from monitor.core.events import CallerChoice, parse_event


def test_events_wait_on_disk_in_order(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox")
    events = [CallerChoice(pbx="hq", timestamp=datetime.now(UTC), call_id="1", uniqueid="1",
                           choice=str(n % 2), where="waiting") for n in range(5)]
    for event in events:
        outbox.put(event)
    pending = outbox.pending()
    assert len(pending) == 5
    stored = [json.loads(p.read_text()) for p in pending]
    assert [s["payload"]["event_id"] for s in stored] == [e.event_id for e in events]
    assert stored[0]["topic"] == "callsla/hq/events/caller_choice"
    assert parse_event(stored[0]["payload"]) == events[0]
    assert not list((tmp_path / "outbox").glob(".*.tmp"))


@pytest.mark.usefixtures("permissive_umask")
def test_event_files_are_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    """An event carries the caller's number and name (PDPA 2010)."""
    outbox = Outbox(tmp_path / "outbox")
    path = outbox.put(CallerChoice(pbx="hq", timestamp=datetime.now(UTC), call_id="1",
                                   uniqueid="1", choice="1", where="waiting"))
    assert path.stat().st_mode & 0o777 == 0o600


def test_older_than_finds_waiting_and_unreadable_events_by_their_stored_time(
        tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox")
    fresh = outbox.put(CallerChoice(pbx="hq", timestamp=datetime.now(UTC), call_id="1",
                                    uniqueid="1", choice="1", where="waiting"))
    old = outbox.folder / f"{10**18:020d}-e0.json"
    bad = outbox.folder / f"{10**18 + 1:020d}-e1.bad"
    for path in (old, bad):
        path.write_text("{}")
    (outbox.folder / "notes.json").write_text("{}")  # not an event name: never touched
    cut = datetime.fromtimestamp(10**9 + 1, UTC)  # 2001-09-09, after 10**18 ns
    assert outbox.older_than(cut) == [old, bad]
    assert fresh in outbox.older_than(datetime.now(UTC) + timedelta(seconds=1))
