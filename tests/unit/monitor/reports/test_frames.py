"""The export frame built column-wise from the store equals the one built from `CallLeg`s."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from monitor.core.charter import Charter, load_charter
from monitor.reports.columns import COLUMN_NAMES
from monitor.reports.frames import legs_frame, legs_frame_from_columns
from monitor.store import Store, open_store
from tests.support.leg_samples import START, varied_legs
from tests.unit.monitor.store.test_leg_columns import END


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path}/calls.db") as opened:
        yield opened


def _charters() -> list[Charter]:
    charter = load_charter()
    return [charter,
            dataclasses.replace(charter, short_abandon_seconds=5.0),
            dataclasses.replace(charter, timezone=ZoneInfo("Europe/London"),
                                short_abandon_seconds=4.999999, answer_within_seconds=9.999999)]


def test_export_frames_from_columns_equal_those_from_legs(store: Store) -> None:
    store.save_legs(varied_legs(900))
    legs = list(store.legs_between(START, END))
    some = {legs[0].call_id: "cb-1", legs[-1].call_id: "cb-2", "nowhere": "cb-3"}
    for charter, callbacks in zip(_charters(), (some, {}, some), strict=True):
        expected = legs_frame(legs, charter, callbacks)
        frames = [legs_frame_from_columns(f, charter, callbacks)
                  for f in store.leg_frames_between(START, END, chunk_size=128)]
        got = pd.concat(frames, ignore_index=True)
        assert list(got.columns) == list(COLUMN_NAMES)
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
        assert got["counted_as_offered"].sum() < len(got)  # the rules had work to do


def test_an_empty_chunk_gives_an_empty_frame_of_the_export_columns(store: Store) -> None:
    from monitor.store._leg_columns import leg_columns

    frame = legs_frame_from_columns(leg_columns([]), load_charter())
    assert list(frame.columns) == list(COLUMN_NAMES)
    assert frame.empty
