"""The store's column-wise leg read against its per-leg read, on SQLite (and, through
tests/integration/monitor/store/test_leg_columns_postgres.py, on PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, timedelta
from pathlib import Path

import pandas as pd
import pytest

from monitor.core.records import CallLeg
from monitor.store import Store, StoreError, open_store
from monitor.store._leg_columns import LEG_FRAME_COLUMNS, leg_columns
from monitor.store._rows import LEG_COLUMNS
from tests.support.leg_samples import START, varied_legs

END = START + timedelta(hours=5)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path}/calls.db") as opened:
        yield opened


def _value(leg: CallLeg, name: str) -> object:
    value = getattr(leg, name)
    if name == "missed_cause":
        return value.value if value else None
    return getattr(value, "value", value)


def _assert_same(frames: list[pd.DataFrame], legs: list[CallLeg]) -> None:
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    assert len(frame) == len(legs)
    for name in LEG_FRAME_COLUMNS:
        column = frame[name]
        if name.endswith("_at"):
            assert str(column.dtype) == "datetime64[us, UTC]"
            got = [None if pd.isna(t) else t.to_pydatetime() for t in column]
        else:
            got = [None if pd.isna(v) else v for v in column]
        assert got == [_value(leg, name) for leg in legs], name


def test_leg_frames_hold_what_legs_between_reads_in_the_same_order(store: Store) -> None:
    store.save_legs(varied_legs(600))
    window = (START + timedelta(minutes=30), START + timedelta(hours=3))
    legs = list(store.legs_between(*window, chunk_size=7))
    frames = list(store.leg_frames_between(*window, chunk_size=7))
    assert {len(f) for f in frames[:-1]} == {7}
    _assert_same(frames, legs)
    assert store.count_legs_between(*window) == len(legs) > 100


def test_leg_frames_take_the_same_filters(store: Store) -> None:
    store.save_legs(varied_legs(300))
    for filters in ({"pbx": "pbx2"}, {"department": "Licensing"}, {"queue": "frontdesk"},
                    {"pbx": "pbx1", "department": "Permits", "queue": ""}):
        legs = list(store.legs_between(START, END, **filters))
        _assert_same(list(store.leg_frames_between(START, END, chunk_size=50, **filters)),
                     legs)
        assert store.count_legs_between(START, END, **filters) == len(legs)


def test_an_empty_window_gives_no_frames(store: Store) -> None:
    store.save_legs(varied_legs(20))
    assert list(store.leg_frames_between(END, END + timedelta(days=1))) == []
    assert store.count_legs_between(END, END + timedelta(days=1)) == 0
    with pytest.raises(ValueError, match="chunk_size"):
        next(store.leg_frames_between(START, END, chunk_size=0))


def test_departments_queues_and_additive_tables(store: Store) -> None:
    store.save_legs(varied_legs(50))
    assert store.departments() == ["Licensing", "Permits"]
    assert store.queues() == ["frontdesk", "other"]
    store.execute(f"CREATE TABLE IF NOT EXISTS notes (at {store.time_type} NOT NULL, text TEXT)")
    store.execute("INSERT INTO notes (at, text) VALUES (?, ?)", (store.time_param(START), "a"))
    ((at, text),) = store.query("SELECT at, text FROM notes WHERE text = ?", ("a",))
    assert (store.time_value(at), text) == (START, "a")
    assert store.time_value(at).tzinfo is not None  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="naive"):
        store.time_param(START.replace(tzinfo=None))


def test_rows_become_typed_columns_and_bad_values_are_refused() -> None:
    row = dict.fromkeys(LEG_COLUMNS, "")
    row.update(kind="front_desk", outcome="missed", missed_cause="", voicemail=1,
               offered_at="2026-07-01T01:00:00.250000+00:00", answered_at=None, ended_at=None)
    frame = leg_columns([tuple(row.values())])
    assert pd.isna(frame["missed_cause"][0])
    assert bool(frame["voicemail"][0])
    assert frame["offered_at"][0].to_pydatetime() == START.replace(
        year=2026, month=7, day=1, hour=1, minute=0, second=0, microsecond=250000, tzinfo=UTC)
    assert list(leg_columns([]).columns) == list(LEG_FRAME_COLUMNS)
    row["kind"] = "sideways"
    with pytest.raises(StoreError, match=r"call_legs\.kind"):
        leg_columns([tuple(row.values())])


def test_an_unknown_stored_value_is_refused_by_both_reads() -> None:
    from monitor.store._dialect import SQLITE
    from monitor.store._rows import leg_from_row, leg_row

    row = list(leg_row(SQLITE, varied_legs(1)[0]))
    assert leg_from_row(SQLITE, row) == varied_legs(1)[0]
    row[LEG_COLUMNS.index("outcome")] = "vanished"
    with pytest.raises(ValueError, match="not a valid Outcome"):
        leg_from_row(SQLITE, row)
    with pytest.raises(StoreError, match=r"call_legs\.outcome"):
        leg_columns([row])
