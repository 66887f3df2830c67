"""Person rings through the recorder: stored in the commit of their leg, rebuilt into
`callsla_person_rings_total` after a restart, and recovered from queue_log once, on AMI traces
of real SIP phones (tests/data/sip_traces/) and a real SQLite store."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from monitor.ami import AmiMessage
from monitor.backfill.queue_log import QueueLogReader
from monitor.core.directory import load_directory
from monitor.core.metrics import create_call_metrics
from monitor.core.records import RingResult
from monitor.ingest.recorder import Recorder
from monitor.store import Store, open_store
from tests.unit.monitor.ingest.test_call_paths_on_sip_phones import HAND_COUNT, trace

EPOCH, FAR = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
PATHS = ("a_ringall_one_answers", "b_rrmemory_ring_no_answer", "c_caller_abandons",
         "d_blind_refer_answered", "i_pickup", "j_forward")


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/rings.db"


def new_recorder(store: Store) -> Recorder:
    recorder = Recorder(store=store, metrics=create_call_metrics(CollectorRegistry()), pbx="p")
    recorder.tracker.know_officers({o.extension: o.department
                                    for o in load_directory(None).officers.values()})
    recorder.start(queues=["frontdesk"])
    return recorder


def ring_samples(recorder: Recorder) -> dict[tuple[str, str], float]:
    return {(s.labels["person"], s.labels["result"]): s.value
            for family in recorder.metrics.registry.collect()
            if family.name == "callsla_person_rings"
            for s in family.samples if s.name.endswith("_total") and s.value}


def stored_tallies(store: Store) -> dict[tuple[str, str], float]:
    return {(person, result): float(n) for person, result, n in store.ring_tallies("p")}


@pytest.fixture
def recorded(db_url: str) -> Iterator[tuple[Store, Recorder]]:
    with open_store(db_url) as store:
        recorder = new_recorder(store)
        for name in PATHS:
            recorder.on_ami_events(trace(name))
        yield store, recorder


def hand_count() -> Counter[tuple[str, str]]:
    total: Counter[tuple[str, str]] = Counter()
    for name in PATHS:
        total.update(HAND_COUNT[name][1])
    return total


def test_every_ring_is_stored_with_its_leg_and_equals_metrics(
        recorded: tuple[Store, Recorder]) -> None:
    store, recorder = recorded
    want = {key: float(n) for key, n in hand_count().items()}
    assert ring_samples(recorder) == want
    assert stored_tallies(store) == want
    legs = {leg.leg_id: leg for leg in store.legs_between(EPOCH, FAR, pbx="p")}
    rings = store.rings_of_legs("p", legs)
    assert sum(len(r) for r in rings.values()) == sum(want.values())
    for leg_id, found in rings.items():
        for ring in found:
            if ring.result is RingResult.ANSWERED:  # the leg's own wait, as the histogram's
                assert ring.answer_wait_seconds == legs[leg_id].answer_wait_seconds
            else:
                assert ring.answer_wait_seconds is None


def test_a_restart_rebuilds_the_ring_counter_from_the_store(
        recorded: tuple[Store, Recorder], db_url: str) -> None:
    _, before = recorded
    with open_store(db_url) as again:
        assert ring_samples(new_recorder(again)) == ring_samples(before)


# -- queue_log backfill ----------------------------------------------------------------
# rrmemory: 101 rings out (6 s), 102 is busy at once, 101 again, 102 answers. The caller's
# entry 1.1 joined at ..00; 2.1 joined and abandoned while 101 rang; 3.1 joined before the read.
QUEUE_LOG = """\
1795485500|1.1|frontdesk|NONE|ENTERQUEUE||0311111111|1
1795485506|1.1|frontdesk|Reception 101|RINGNOANSWER|6000
1795485507|1.1|frontdesk|Reception 102|RINGNOANSWER|0
1795485507|1.1|frontdesk|Reception 102|RINGNOANSWER|0
1795485512|1.1|frontdesk|Reception 101|RINGNOANSWER|5000
1795485515|1.1|frontdesk|Reception 102|CONNECT|15|1.2|3
1795485520|2.1|frontdesk|NONE|ENTERQUEUE||0322222222|1
1795485523|2.1|frontdesk|Reception 101|RINGCANCELED|2000
1795485523|2.1|frontdesk|NONE|ABANDON|1|1|3
1795485530|3.1|frontdesk|Reception 101|RINGNOANSWER|6000
1795485532|3.1|frontdesk|Reception 102|CONNECT|12|3.2|2
"""
LOGGED = {("Reception 101", "not_answered"): 4.0, ("Reception 102", "not_answered"): 2.0,
          ("Reception 102", "answered"): 2.0}


def test_queue_log_backfill_stores_the_rings_it_shows_once(db_url: str,
                                                           tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    path.write_text(QUEUE_LOG)
    with open_store(db_url) as store:
        recorder = new_recorder(store)
        # 3.1 joined before this read: the live path saw its join, 12 s before CONNECT.
        recorder.on_ami_events([AmiMessage({
            "event": "QueueCallerJoin", "timestamp": "1795485520.4", "uniqueid": "3.1",
            "linkedid": "3.1", "queue": "frontdesk"})])
        window, _ = QueueLogReader(path, pbx="p").read(0)
        recorder.merge_backfill(window)
        assert ring_samples(recorder) == LOGGED == stored_tallies(store)
        recorder.merge_backfill(QueueLogReader(path, pbx="p").read(0)[0])  # again: nothing new
        assert stored_tallies(store) == LOGGED
        leg_id = "3.1:frontdesk@1795485520"
        leg = store.get_leg("p", leg_id)
        assert leg is not None
        assert leg.answer_wait_seconds == 12.0  # the log's hold time, from the live join
        assert [(r.person, r.answer_wait_seconds) for r in store.rings_of_legs("p", [leg_id])[
            leg_id] if r.result is RingResult.ANSWERED] == [("Reception 102", 12.0)]
    with open_store(db_url) as store:
        assert ring_samples(new_recorder(store)) == LOGGED


def test_rings_the_live_path_stored_are_not_taken_again_from_the_log(
        db_url: str, tmp_path: Path) -> None:
    """The monitor saw the join and 101's first ring-out live, then went down."""
    path = tmp_path / "queue_log"
    path.write_text(QUEUE_LOG)
    common = {"uniqueid": "1.1", "linkedid": "1.1", "queue": "frontdesk"}
    with open_store(db_url) as store:
        recorder = new_recorder(store)
        recorder.on_ami_events([
            AmiMessage({"event": "QueueCallerJoin", "timestamp": "1795485500.3", **common}),
            AmiMessage({"event": "AgentCalled", "timestamp": "1795485500.4", **common,
                        "destuniqueid": "1.5", "membername": "Reception 101"}),
            AmiMessage({"event": "AgentRingNoAnswer", "timestamp": "1795485506.4", **common,
                        "destuniqueid": "1.5", "membername": "Reception 101"}),
        ])
        assert ring_samples(recorder) == {("Reception 101", "not_answered"): 1.0}
        recorder.merge_backfill(QueueLogReader(path, pbx="p").read(0)[0])
        # 3.1 is neither stored nor joined in the read: its leg, and so its rings, are unknown.
        without_3_1 = {("Reception 101", "not_answered"): 3.0,
                       ("Reception 102", "not_answered"): 2.0,
                       ("Reception 102", "answered"): 1.0}
        assert ring_samples(recorder) == without_3_1 == stored_tallies(store)
        rings = store.rings_of_legs("p", ["1.1:frontdesk@1795485500"])["1.1:frontdesk@1795485500"]
        assert [r.ring_id for r in rings][:1] == ["1.5"]  # the live ring, kept as it was
