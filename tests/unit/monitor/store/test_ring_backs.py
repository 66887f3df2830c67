"""Ring-backs in the store (migration 9): read back by time and PBX, a form sent twice kept once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitor.core.ring_backs import RingBack, RingBackOutcome
from monitor.store import Store, open_store

T0 = datetime(2026, 8, 3, 1, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path}/calls.db") as opened:
        yield opened


def test_ring_backs_read_back_in_their_window_once_each(store: Store) -> None:
    made = [RingBack(pbx=pbx, ring_back_id=f"rb-{n}", caller_number="0123456789",
                     rung_at=(T0 + timedelta(hours=n)).astimezone(ZoneInfo("Asia/Kuala_Lumpur")),
                     outcome=outcome, rung_by="siti", note="Tan & <Sons> · ü")
            for n, (pbx, outcome) in enumerate([("hq", RingBackOutcome.REACHED),
                                                ("hq", RingBackOutcome.NO_ANSWER),
                                                ("branch", RingBackOutcome.LEFT_MESSAGE),
                                                ("hq", RingBackOutcome.WRONG_NUMBER)])]
    assert [store.save_ring_back(r) for r in made] == [True] * 4
    assert store.save_ring_back(made[0]) is False  # the same form sent again
    window = store.ring_backs_between(T0, T0 + timedelta(hours=3), pbx="hq")
    assert window == made[:2]
    assert window[0].rung_at == T0
    assert [r.ring_back_id for r in store.ring_backs_between(T0, T0 + timedelta(days=1))] == [
        "rb-0", "rb-1", "rb-2", "rb-3"]
