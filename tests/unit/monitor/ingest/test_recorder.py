"""The recorder: live legs, backfilled legs and a restart count each transition exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from monitor.ami import AmiMessage
from monitor.backfill.queue_log import QueueLogReader
from monitor.core.metrics import create_call_metrics
from monitor.core.records import CallLeg, LegKind, MissedCause, Outcome
from monitor.ingest.leg_counter import LegCounter
from monitor.ingest.recorder import Recorder
from monitor.store import Store, open_store

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LABELS = {"pbx": "p", "queue": "frontdesk", "department": ""}
QUEUE_LOG = """\
1795485505|NONE|NONE|NONE|QUEUESTART|
1795485505|1.1|frontdesk|NONE|ENTERQUEUE||0311111111|1
1795485507|1.1|frontdesk|Reception 1|CONNECT|2|1.2|2
1795485511|2.1|frontdesk|NONE|ENTERQUEUE||0322222222|1
1795485514|2.1|frontdesk|NONE|ABANDON|1|1|3
1795485520|3.1|frontdesk|NONE|ENTERQUEUE||0333333333|1
garbage line
"""


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/recorder.db"


@pytest.fixture
def recorder(db_url: str) -> Iterator[Recorder]:
    with open_store(db_url) as store:
        yield new_recorder(store)


def new_recorder(store: Store) -> Recorder:
    recorder = Recorder(store=store, metrics=create_call_metrics(CollectorRegistry()), pbx="p")
    recorder.start(queues=["frontdesk"])
    return recorder


def value(recorder: Recorder, name: str, **extra: str) -> float:
    return recorder.metrics.registry.get_sample_value(name, {**LABELS, **extra}) or 0.0


def counts(recorder: Recorder) -> tuple[float, float, float]:
    return (value(recorder, "callsla_calls_offered_total"),
            value(recorder, "callsla_calls_answered_total"),
            value(recorder, "callsla_calls_missed_total", cause="abandoned"))


def window(tmp_path: Path, text: str = QUEUE_LOG) -> QueueLogReader:
    path = tmp_path / "queue_log"
    path.write_text(text)
    return QueueLogReader(path, pbx="p")


def test_series_exist_before_the_first_call(recorder: Recorder) -> None:
    assert counts(recorder) == (0, 0, 0)
    assert recorder.metrics.registry.get_sample_value(
        "callsla_calls_missed_total", {**LABELS, "cause": "no_agents"}) == 0


def test_backfill_twice_counts_once(recorder: Recorder, tmp_path: Path) -> None:
    log, _ = window(tmp_path).read(0)
    assert log.bad_lines == 1
    recorder.merge_backfill(log)
    assert counts(recorder) == (3, 1, 1)
    assert recorder.merge_backfill(window(tmp_path).read(0)[0]) == 0
    assert counts(recorder) == (3, 1, 1)
    assert value(recorder, "callsla_answer_wait_seconds_bucket", le="2.0") == 1
    assert value(recorder, "callsla_callers_waiting") == 1  # 3.1 is still in the queue


def test_live_events_after_a_backfill_of_the_same_call_do_not_count_again(
        recorder: Recorder, tmp_path: Path) -> None:
    recorder.merge_backfill(window(tmp_path).read(0)[0])
    common = {"uniqueid": "3.1", "linkedid": "3.0", "queue": "frontdesk"}
    recorder.on_ami_events([
        AmiMessage({"event": "QueueCallerJoin", "timestamp": "1795485520.25", **common}),
        AmiMessage({"event": "QueueCallerLeave", "timestamp": "1795485524.5", **common}),
        AmiMessage({"event": "AgentConnect", "timestamp": "1795485524.5", **common}),
    ])
    assert counts(recorder) == (3, 2, 1)
    leg = recorder.store.get_leg("p", "3.1:frontdesk@1795485520")
    assert leg is not None
    assert leg.answer_wait_seconds == pytest.approx(4.25)
    assert leg.call_id == "3.0"


def test_a_restart_rebuilds_the_same_counts_and_resumes_waiting_callers(
        db_url: str, tmp_path: Path) -> None:
    with open_store(db_url) as store:
        first = new_recorder(store)
        first.merge_backfill(window(tmp_path).read(0)[0])
        before = counts(first)
    with open_store(db_url) as store:
        again = new_recorder(store)
        assert counts(again) == before
        assert list(again.tracker.queue_legs) == ["3.1"]
        common = {"uniqueid": "3.1", "linkedid": "3.0", "queue": "frontdesk"}
        again.on_ami_events([
            AmiMessage({"event": "QueueCallerAbandon", "timestamp": "1795485530", **common})])
        assert counts(again) == (3, 1, 2)


def test_counters_rebuilt_in_sql_equal_counting_each_leg(db_url: str) -> None:
    waits = [-0.5, 0.0, 0.3, 1.0, 1.0000001, 2.0, 4.99, 5.0, 9.999999, 10.0, 10.000001, 44.0,
             300.0, 301.5, 5000.0]
    outcomes = [(Outcome.MISSED, MissedCause.ABANDONED), (Outcome.MISSED, MissedCause.TIMEOUT),
                (Outcome.MISSED, None), (Outcome.RETURNED, None), (Outcome.IN_PROGRESS, None),
                (Outcome.VOICEMAIL, None)]
    legs = []
    for n, wait in enumerate(waits):
        legs.append(CallLeg(pbx="p", call_id=f"c{n}", leg_id=f"a{n}", kind=LegKind.FRONT_DESK,
                            offered_at=T0, queue="frontdesk", outcome=Outcome.ANSWERED,
                            answered_at=T0 + timedelta(seconds=wait)))
    for n, (outcome, cause) in enumerate(outcomes):
        legs.append(CallLeg(pbx="p", call_id=f"m{n}", leg_id=f"m{n}", kind=LegKind.TRANSFER,
                            offered_at=T0, department="licensing", outcome=outcome,
                            missed_cause=cause))
    live = LegCounter(create_call_metrics(CollectorRegistry()))
    for leg in legs:
        live.count_stored(leg)
    with open_store(db_url) as store:
        store.save_legs(legs)
        rebuilt = new_recorder(store)
    expected, got = samples(live.metrics.registry), samples(rebuilt.metrics.registry)
    assert len(expected) > 40
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-12, abs=1e-9), key


def samples(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in registry.collect() for s in family.samples
            if family.name in COUNTED and not s.name.endswith("_created")}


COUNTED = {"callsla_calls_offered", "callsla_calls_answered", "callsla_calls_missed",
           "callsla_answer_wait_seconds", "callsla_transfers_returned"}
