"""The store against SQLite; tests/integration/monitor/store/test_store_postgres.py runs the
same tests on PostgreSQL."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitor.core.records import (
    Callback,
    CallbackStatus,
    CallLeg,
    LegKind,
    MissedCause,
    Outcome,
    PersonRing,
    RingResult,
    StatusAnnouncement,
)
from monitor.core.ring_backs import RingBack, RingBackOutcome
from monitor.store import (
    SCHEMA_VERSION,
    BackfillMark,
    SchemaTooNewError,
    Store,
    StoredEvent,
    StoreError,
    _schema,
    open_store,
)
from tests.support.full_disk import fill_disk

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path}/calls.db") as opened:
        yield opened


def make_leg(n: int, **changes: object) -> CallLeg:
    leg = CallLeg(pbx="pbx1", call_id=f"call-{n}", leg_id=f"leg-{n}", kind=LegKind.FRONT_DESK,
                  offered_at=T0 + timedelta(seconds=n), queue="frontdesk",
                  caller_number="0312345678", uniqueid=f"{n}.1")
    for name, value in changes.items():
        setattr(leg, name, value)
    return leg


def make_callback(n: int) -> Callback:
    return Callback(pbx="pbx1", callback_id=f"cb-{n}", call_id=f"call-{n}", officer="2001",
                    department="Licensing", caller_name="Aminah", contacted_at=T0,
                    caller_number="0123456789", matter="vm:INBOX/msg0001",
                    due_at=T0 + timedelta(hours=24 + n))


def test_new_store_is_at_the_latest_schema_version(store: Store) -> None:
    assert store.schema_version == SCHEMA_VERSION


def test_a_saved_leg_reads_back_equal(store: Store) -> None:
    leg = make_leg(1, answered_at=T0 + timedelta(seconds=8.25), ended_at=T0 + timedelta(60),
                   outcome=Outcome.ANSWERED, answered_by="r1", department="Licensing",
                   caller_name="Ali, bin \"Abu\"")
    store.save_legs([leg])
    assert store.get_leg("pbx1", "leg-1") == leg
    assert store.get_leg("pbx1", "nope") is None


def test_saving_a_leg_again_updates_it_in_place(store: Store) -> None:
    store.save_legs([make_leg(1)])
    store.save_legs([make_leg(1, outcome=Outcome.MISSED, missed_cause=MissedCause.ABANDONED,
                              ended_at=T0 + timedelta(seconds=14))])
    assert store.count_legs() == 1
    leg = store.get_leg("pbx1", "leg-1")
    assert leg is not None
    assert leg.missed_cause is MissedCause.ABANDONED
    assert store.open_legs("pbx1") == []


def test_open_legs_are_those_in_progress(store: Store) -> None:
    store.save_legs([make_leg(1), make_leg(2, outcome=Outcome.ANSWERED,
                                           answered_at=T0 + timedelta(seconds=5))])
    assert [leg.leg_id for leg in store.open_legs("pbx1")] == ["leg-1"]
    assert store.open_legs("other-pbx") == []


def test_legs_between_reads_a_half_open_window_in_chunks(store: Store) -> None:
    store.save_legs(make_leg(n) for n in range(25))
    store.save_legs([make_leg(100, pbx="pbx2", leg_id="leg-5")])  # same id, other PBX
    window = list(store.legs_between(T0 + timedelta(seconds=5), T0 + timedelta(seconds=20),
                                     chunk_size=4))
    assert [leg.leg_id for leg in window] == [f"leg-{n}" for n in range(5, 20)]
    pbx2 = list(store.legs_between(T0, T0 + timedelta(days=1), pbx="pbx2"))
    assert [leg.call_id for leg in pbx2] == ["call-100"]


def test_legs_with_equal_offer_times_are_all_read_across_chunks(store: Store) -> None:
    store.save_legs(make_leg(n, offered_at=T0) for n in range(10))
    found = list(store.legs_between(T0, T0 + timedelta(seconds=1), chunk_size=3))
    assert sorted(leg.leg_id for leg in found) == sorted(f"leg-{n}" for n in range(10))


def test_times_from_any_zone_compare_as_instants(store: Store) -> None:
    kl = datetime(2026, 3, 2, 9, 0, 30, tzinfo=UTC).astimezone(ZoneInfo("Asia/Kuala_Lumpur"))
    store.save_legs([make_leg(1, offered_at=kl)])
    found = list(store.legs_between(T0, T0 + timedelta(minutes=1)))
    assert [leg.offered_at for leg in found] == [kl]


def test_a_naive_time_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="naive"):
        store.save_legs([make_leg(1, offered_at=datetime(2026, 3, 2, 9, 0))])


def test_legs_of_call_join_every_leg(store: Store) -> None:
    store.save_legs([make_leg(1), make_leg(2, call_id="call-1", kind=LegKind.TRANSFER,
                                           officer="2001")])
    assert [leg.kind for leg in store.legs_of_call("call-1")] == [LegKind.FRONT_DESK,
                                                                  LegKind.TRANSFER]


def test_a_batch_commits_once_or_not_at_all(store: Store) -> None:
    def fail_half_way() -> None:
        with store.batch():
            store.save_legs([make_leg(1)])
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fail_half_way()
    assert store.count_legs() == 0
    with store.batch():
        store.save_legs([make_leg(1)])
        store.save_legs([make_leg(2)])
    assert store.count_legs() == 2


def test_callbacks_are_filtered_and_closed(store: Store) -> None:
    for n in range(3):
        store.save_callback(make_callback(n))
    assert len(store.callbacks(status=CallbackStatus.OPEN)) == 3
    done = T0 + timedelta(hours=3)
    closed = store.close_callback("pbx1", "cb-1", action_taken="called back, licence renewed",
                                  done_at=done, caller_informed_at=done)
    assert closed.status is CallbackStatus.CLOSED
    assert store.get_callback("pbx1", "cb-1") == closed
    assert [c.callback_id for c in store.callbacks(status=CallbackStatus.OPEN)] == ["cb-0", "cb-2"]
    assert [c.callback_id for c in store.callbacks(due_before=T0 + timedelta(hours=25, minutes=1))
            ] == ["cb-0", "cb-1"]
    with pytest.raises(StoreError, match="no callback"):
        store.close_callback("pbx1", "cb-9", action_taken="", done_at=done)


def test_an_event_is_recorded_once(store: Store) -> None:
    event = StoredEvent(pbx="pbx1", event_id="e-1", source="mqtt", type="voicemail_left",
                      call_id="call-1", occurred_at=T0, payload='{"schema": 1}')
    assert store.record_event(event) is True
    assert store.record_event(event) is False


def test_status_announcements_read_back_in_time_order(store: Store) -> None:
    for n, interval in enumerate((None, 20.001, 19.999)):
        store.save_status_announcement(StatusAnnouncement(
            pbx="pbx1", event_id=f"s-{n}", call_id="call-1", uniqueid="1.1",
            department="Licensing", officer="2001", announced_at=T0 + timedelta(seconds=20 * n),
            position=3 - n, waited_seconds=20.0 * n, interval_seconds=interval))
    store.save_status_announcement(StatusAnnouncement(
        pbx="pbx1", event_id="ami:2.2:frontdesk@1", call_id="call-2", uniqueid="2.2",
        department="", officer="", announced_at=T0 + timedelta(seconds=30), position=1,
        waited_seconds=40.0, interval_seconds=20.004, queue="frontdesk"))
    found = store.status_announcements(T0, T0 + timedelta(minutes=5))
    assert [a.interval_seconds for a in found] == [None, 20.001, 20.004, 19.999]
    assert [a.queue for a in found] == ["", "", "frontdesk", ""]
    assert found[2].department == found[2].officer == ""


def test_backfill_marks_move_forward(store: Store) -> None:
    assert store.backfill_mark("pbx1", "queue_log") is None
    store.set_backfill_mark(BackfillMark("pbx1", "queue_log", "1024", T0))
    store.set_backfill_mark(BackfillMark("pbx1", "queue_log", "2048", T0 + timedelta(1)))
    assert store.backfill_mark("pbx1", "queue_log") == BackfillMark(
        "pbx1", "queue_log", "2048", T0 + timedelta(1))


def test_reopening_keeps_the_data_and_the_version(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/calls.db"
    with open_store(url) as first:
        first.save_legs([make_leg(1)])
    with open_store(url) as second:
        assert second.count_legs() == 1
        assert second.schema_version == SCHEMA_VERSION


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "calls.db"
    open_store(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as raw:
        raw.execute("INSERT INTO schema_version VALUES (999, 'future', '2030-01-01')")
    with pytest.raises(SchemaTooNewError, match="upgrade callsla"):
        open_store(f"sqlite:///{path}")


def test_a_bad_url_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="must be sqlite"):
        open_store("mysql://x@y/z")


# The export log as `ReportStore` created it itself before the store's migration 2 had it.
OLD_EXPORT_LOG = """CREATE TABLE IF NOT EXISTS export_log (
    export_id TEXT PRIMARY KEY, exported_at TEXT NOT NULL,
    exported_by TEXT NOT NULL, host TEXT NOT NULL, kind TEXT NOT NULL,
    first_day TEXT NOT NULL, last_day TEXT NOT NULL, department TEXT NOT NULL,
    queue TEXT NOT NULL, format TEXT NOT NULL, path TEXT NOT NULL,
    row_count INTEGER NOT NULL, masked INTEGER NOT NULL, reason TEXT NOT NULL)"""


@pytest.mark.parametrize("reports_made_the_table", [True, False])
def test_a_version_1_store_migrates_to_the_export_log(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reports_made_the_table: bool) -> None:
    path = tmp_path / "v1.db"
    with monkeypatch.context() as old:  # this callsla before migration 2
        old.setattr(_schema, "MIGRATIONS", _schema.MIGRATIONS[:1])
        old.setattr(_schema, "LATEST", 1)
        with open_store(f"sqlite:///{path}") as v1:
            assert v1.schema_version == 1
            v1.save_legs([make_leg(1)])
            if reports_made_the_table:
                v1.execute(OLD_EXPORT_LOG)
                v1.execute("INSERT INTO export_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                           " ?, ?)", ("x1", "2026-10-01T02:00:00+00:00", "auditor", "host",
                                      "export", "2026-07-01", "2026-09-30", "", "", "csv",
                                      "/tmp/q3.csv", 10, 1, ""))
    with open_store(f"sqlite:///{path}") as store:
        assert store.schema_version == SCHEMA_VERSION >= 6
        assert store.count_legs() == 1
        logged = store.query("SELECT export_id, row_count, seq, entry_hash FROM export_log")
        assert logged == ([("x1", 10, None, "")] if reports_made_the_table else [])
        store.execute("INSERT INTO export_log (export_id, exported_at, exported_by, host, kind,"
                      " first_day, last_day, department, queue, format, path, row_count,"
                      " masked, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      ("x2", "2026-10-02T02:00:00+00:00", "auditor", "host", "report",
                       "2026-07-01", "2026-09-30", "", "", "pdf", "/tmp/q3.pdf", 1, 1, ""))
        assert len(store.query("SELECT * FROM export_log")) == 1 + reports_made_the_table


# -- person rings (migration 3) --------------------------------------------------------

def make_ring(leg: CallLeg, ring_id: str, person: str, result: RingResult,
              after: float, wait: float | None = None) -> PersonRing:
    return PersonRing(pbx=leg.pbx, leg_id=leg.leg_id, ring_id=ring_id, person=person,
                      result=result, ended_at=leg.offered_at + timedelta(seconds=after),
                      answer_wait_seconds=wait)


def test_rings_read_back_by_leg_in_the_order_they_ended(store: Store) -> None:
    leg = make_leg(1)
    rna = make_ring(leg, "m1", "Reception 101", RingResult.NOT_ANSWERED, 6)
    answer = make_ring(leg, "m2", "Reception 102", RingResult.ANSWERED, 12.5, 12.5)
    with store.batch():
        store.save_legs([leg])
        store.save_rings([answer, rna])
        store.save_rings([answer])  # again: replaced, not doubled
    assert store.rings_of_legs("pbx1", ["leg-1", "leg-9"]) == {"leg-1": [rna, answer]}
    assert sorted(store.ring_tallies("pbx1")) == [("Reception 101", "not_answered", 1),
                                                 ("Reception 102", "answered", 1)]
    assert store.ring_tallies("pbx2") == []


def test_person_ring_figures_follow_their_legs_window_and_labels(store: Store) -> None:
    desk = make_leg(1)
    officer = make_leg(2, kind=LegKind.TRANSFER, queue="", department="finance",
                       officer="2101")
    late = make_leg(3)
    outside = make_leg(4, offered_at=T0 + timedelta(days=1))
    store.save_legs([desk, officer, late, outside])
    store.save_rings([
        make_ring(desk, "a", "Reception 101", RingResult.ANSWERED, 3, 3.0),
        make_ring(desk, "b", "Reception 102", RingResult.ANSWERED_ELSEWHERE, 3),
        make_ring(officer, "c", "2101", RingResult.ANSWERED, 10, 10.0),  # 10 s is within
        make_ring(late, "d", "Reception 101", RingResult.NOT_ANSWERED, 6),
        make_ring(late, "e", "Reception 101", RingResult.ANSWERED, 12, 12.0),
        make_ring(outside, "f", "Reception 101", RingResult.ANSWERED, 1, 1.0),
    ])
    figures = store.person_ring_figures(T0, T0 + timedelta(hours=1), within_seconds=10)
    assert [(f.queue, f.department, f.person, f.result.value, f.count, f.answered_within)
            for f in figures] == [
        ("", "finance", "2101", "answered", 1, 1),
        ("frontdesk", "", "Reception 101", "answered", 2, 1),
        ("frontdesk", "", "Reception 101", "not_answered", 1, 0),
        ("frontdesk", "", "Reception 102", "answered_elsewhere", 1, 0),
    ]
    assert store.person_ring_figures(T0, T0 + timedelta(hours=1), within_seconds=10,
                                     pbx="pbx2") == []


@contextlib.contextmanager
def version_2_store(path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """The store as a callsla of store version 2 (before person rings) made it."""
    with monkeypatch.context() as old:
        old.setattr(_schema, "MIGRATIONS", _schema.MIGRATIONS[:2])
        old.setattr(_schema, "LATEST", 2)
        with open_store(f"sqlite:///{path}") as v2:
            yield v2


def test_a_version_2_store_migrates_to_person_rings(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "v2.db"
    with version_2_store(path, monkeypatch) as v2:
        v2.save_legs([make_leg(1, answered_at=T0 + timedelta(seconds=4),
                               answered_by="Reception 101", outcome=Outcome.ANSWERED)])
    with open_store(f"sqlite:///{path}") as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.count_legs() == 1
        # Rings before the upgrade were never stored: none are made up from answered_by.
        assert store.ring_tallies("pbx1") == []
        store.save_rings([make_ring(make_leg(2), "x", "2101", RingResult.NOT_ANSWERED, 5)])
        assert store.ring_tallies("pbx1") == [("2101", "not_answered", 1)]


@pytest.mark.usefixtures("permissive_umask")
def test_store_files_are_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    """PDPA 2010: the store holds every caller's number; SQLite alone makes it 0644."""
    with open_store(f"sqlite:///{tmp_path}/calls.db") as opened:
        opened.save_legs([make_leg(1)])
        files = sorted(tmp_path.iterdir())
        assert [f.name for f in files] == ["calls.db", "calls.db-shm", "calls.db-wal"]
        assert {f.name: oct(f.stat().st_mode & 0o777) for f in files} == {
            f.name: "0o600" for f in files}


def test_an_existing_world_readable_store_is_tightened(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/calls.db"
    with open_store(url) as opened:
        opened.save_legs([make_leg(1)])
    (tmp_path / "calls.db").chmod(0o644)
    with open_store(url) as opened:
        assert opened.count_legs() == 1
        assert (tmp_path / "calls.db").stat().st_mode & 0o777 == 0o640


def _aged_records(store: Store) -> None:
    """Per table, records on both sides of T0 + 1 day; equal times to cross batch bounds."""
    store.save_legs([make_leg(n, offered_at=T0 + timedelta(hours=n // 2)) for n in range(12)])
    store.save_legs([make_leg(99, pbx="pbx2", offered_at=T0)])
    for n in range(4):
        store.record_event(StoredEvent(pbx="pbx1", event_id=f"e-{n}", source="mqtt",
                                       type="voicemail_left", call_id=f"call-{n}",
                                       occurred_at=T0 + timedelta(hours=12 * n), payload="{}"))
        store.save_status_announcement(StatusAnnouncement(
            pbx="pbx1", event_id=f"s-{n}", call_id="call-1", uniqueid="1.1",
            department="Licensing", officer="2001", announced_at=T0 + timedelta(hours=12 * n),
            position=1, waited_seconds=20.0, interval_seconds=None))
    for n in range(3):
        store.save_callback(make_callback(n))  # contacted at T0
    store.close_callback("pbx1", "cb-0", action_taken="called", done_at=T0)
    store.close_callback("pbx1", "cb-1", action_taken="called", done_at=T0)
    for n in range(2):
        store.save_ring_back(RingBack(pbx="pbx1", ring_back_id=f"rb-{n}", caller_number="0123",
                                      rung_at=T0 + timedelta(days=2 * n),
                                      outcome=RingBackOutcome.REACHED, rung_by="siti"))


def test_purge_removes_only_caller_records_older_than_the_cut(store: Store) -> None:
    _aged_records(store)
    cut = T0 + timedelta(days=1)
    expected = {"call_legs": 13, "call_events": 2, "status_announcements": 2, "callbacks": 2,
                "ring_backs": 1}
    assert store.count_older_than(cut) == expected
    assert store.count_older_than(cut, pbx="pbx2") == {
        "call_legs": 1, "call_events": 0, "status_announcements": 0, "callbacks": 0,
        "ring_backs": 0}
    batches = list(store.purge_older_than(cut, batch_rows=3))
    totals: dict[str, int] = {}
    for table, rows in batches:
        totals[table] = totals.get(table, 0) + rows
    assert totals == expected
    assert len([b for b in batches if b[0] == "call_legs"]) >= 4  # committed in batches
    assert store.count_older_than(cut) == dict.fromkeys(expected, 0)
    assert store.count_legs() == 0  # every leg was offered before the cut
    assert [e.event_id for e in store.call_events(T0, T0 + timedelta(days=3))] == ["e-2", "e-3"]
    assert len(store.status_announcements(T0, T0 + timedelta(days=3))) == 2
    assert [cb.callback_id for cb in store.callbacks()] == ["cb-2"]  # still owed: kept
    assert [r.ring_back_id for r in store.ring_backs_between(T0, T0 + timedelta(days=3))] == [
        "rb-1"]


def test_purge_of_one_pbx_keeps_the_others(store: Store) -> None:
    _aged_records(store)
    cut = T0 + timedelta(days=1)
    assert list(store.purge_older_than(cut, pbx="pbx2")) == [("call_legs", 1)]
    assert store.count_legs() == 12


def test_a_full_disk_is_a_failure_until_a_write_commits_again(
        tmpfs: Callable[[str], Path]) -> None:
    """Reads still work on a full disk, so only a committed write clears the failure."""
    disk = tmpfs("2m")
    with open_store(f"sqlite:///{disk}/calls.db") as opened:
        opened.save_legs([make_leg(1)])
        assert opened.failure is None
        filler = fill_disk(disk)
        with pytest.raises(StoreError):
            opened.save_legs([make_leg(n, caller_name="x" * 2000) for n in range(2, 400)])
        assert opened.failure is not None
        assert "full" in opened.failure
        assert opened.count_legs() == 1  # a read works ...
        assert opened.failure is not None  # ... and proves nothing about writes
        opened.reconnect()
        assert opened.failure is not None  # kept across a reconnect
        filler.unlink()
        opened.save_legs([make_leg(2)])
        assert opened.failure is None
        assert opened.count_legs() == 2


def test_a_version_2_store_keeps_its_status_messages_with_no_queue(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "v2.db"
    with version_2_store(path, monkeypatch) as v2:
        v2.execute("INSERT INTO status_announcements VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   ("pbx1", "s-1", "call-1", "1.1", "licensing", "2201",
                    "2026-10-01T02:00:00+00:00", 1, 20.0, 20.002))
    with open_store(f"sqlite:///{path}") as store:
        assert store.schema_version == SCHEMA_VERSION >= 6
        [kept] = store.status_announcements(T0 - timedelta(days=400), T0 + timedelta(days=400))
        assert (kept.department, kept.officer, kept.queue, kept.interval_seconds) == (
            "licensing", "2201", "", 20.002)
