"""Per-person figures on real SIP phones, counted by a real `callsla monitor`: the quarterly
report's Jadual 2 (from the stored rings) equals /metrics' `callsla_person_rings_total` and
`callsla_person_answer_wait_seconds` and a hand count; still after a monitor restart (the
counter rebuilt from the store), and after a gap while the monitor was down, which the
queue_log backfill fills (all but `answered_elsewhere`, which queue_log never shows).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from lab import Lab
from lab.sip.phones import sip_phones
from monitor.core.charter import load_charter
from monitor.reports.periods import Period, parse_quarter
from monitor.reports.report import build_report
from monitor.reports.report_store import ReportStore
from monitor.store import open_store
from tests.integration.monitor.ingest.test_sip_call_paths import run_path
from tests.support import sip_traces
from tests.support.callflow_harness import start_rig
from tests.support.monitor_run import MonitorRun

R101, R102 = "Reception 101", "Reception 102"  # the SIP members' names (lab/sip)
PATHS = ("a_ringall_one_answers", "b_rrmemory_ring_no_answer", "c_caller_abandons",
         "d_blind_refer_answered")
# The hand count (tests/data/sip_traces/README.md, docs/architecture.md):
# a: ringall, 101 answers after 3 s, 102 cancelled: 101 answered (within), 102 elsewhere;
# b: rrmemory, 101 rings out (6 s), 102 answers 12 s after arrival: 101 not answered,
#    102 answered (not within);
# c: ringall, the caller hangs up after 7 s: 101 and 102 not answered;
# d: 101 answers after 2 s (within) and REFERs the caller to 2101, who answers 10.7 s after
#    the caller started waiting for him (the announcement included): not within.
HAND_COUNT = {(R101, "answered"): 2, (R101, "not_answered"): 2, (R102, "answered"): 1,
              (R102, "answered_elsewhere"): 1, (R102, "not_answered"): 1,
              ("2101", "answered"): 1}
WITHIN = {R101: 2, R102: 0, "2101": 0}
# a, b and c again while the monitor is down, read back from queue_log: a's CONNECT (101,
# within 10 s; 102's cancelled ring leaves no line, so it is missing after the gap), b's
# RINGNOANSWER (101) and CONNECT (102), c's two RINGCANCELED.
GAP_PATHS = ("a_ringall_one_answers", "b_rrmemory_ring_no_answer", "c_caller_abandons")
GAP = {(R101, "answered"): 1, (R101, "not_answered"): 2, (R102, "answered"): 1,
       (R102, "not_answered"): 1}
GAP_WITHIN = {R101: 1}

Figures = tuple[dict[tuple[str, str], int], dict[str, int]]  # rings by result; within 10 s


def metric_figures(run: MonitorRun, pbx: str) -> Figures:
    rings: dict[tuple[str, str], int] = {}
    within: dict[str, int] = {}
    for (name, labels), value in run.samples().items():
        found = dict(labels)
        if found.get("pbx") != pbx or not value:
            continue
        if name == "callsla_person_rings_total":
            rings[(found["person"], found["result"])] = int(value)
        elif name == "callsla_person_answer_wait_seconds_bucket" and found["le"] == "10.0":
            within[found["person"]] = int(value)
    return rings, within


def this_quarter() -> Period:
    charter = load_charter()
    now = datetime.now(UTC).astimezone(charter.timezone)
    return parse_quarter(f"{now.year}Q{(now.month - 1) // 3 + 1}", charter.timezone)


def report_figures(db_url: str, pbx: str) -> Figures:
    """Jadual 2 of the quarterly report, summed per person over queues and departments."""
    with open_store(db_url) as store:
        report = build_report(ReportStore(store, pbx=pbx), load_charter(), this_quarter())
    rings: Counter[tuple[str, str]] = Counter()
    within: Counter[str] = Counter()
    for row in report.persons.itertuples(index=False):
        for column, result in (("person_answered", "answered"),
                               ("person_not_answered", "not_answered"),
                               ("person_answered_elsewhere", "answered_elsewhere")):
            rings[(row.person, result)] += getattr(row, column)
        within[row.person] += row.person_within
    return ({k: v for k, v in rings.items() if v}, {k: v for k, v in within.items() if v})


def without_zeros(counts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if v}


async def place_calls(lab: Lab, work: Path, names: tuple[str, ...]) -> None:
    rig = await start_rig(lab, work)
    try:
        async with sip_phones(lab) as phones:
            await phones.use_front_desk(["101"], strategy="rrmemory")  # officer dialling: SIP
            for name in names:
                await run_path(name, phones, rig)
                await asyncio.sleep(1)
            await sip_traces.wait_idle(lab)
    finally:
        await rig.close()


def wait_for_rings(run: MonitorRun, pbx: str, want: dict[tuple[str, str], int]) -> None:
    """Until the last ring's event is counted (or 20 s: the assertion then says what is off)."""
    deadline = time.monotonic() + 20
    while metric_figures(run, pbx)[0] != want and time.monotonic() < deadline:
        time.sleep(0.25)


def test_report_per_person_figures_equal_metrics_and_hand_count(lab: Lab,
                                                               tmp_path: Path) -> None:
    os.environ.pop("CALLSLA_CUSTOMER_CONTEXTS", None)  # the default: calls from the trunk
    assert lab.pbx is not None
    lab.pbx.cli("logger rotate")  # this store's backfill reads this test's calls only
    pbx = f"lab-person-{uuid.uuid4().hex[:6]}"
    db_url = f"sqlite:///{tmp_path}/persons.db"
    run = MonitorRun(lab, db_url, pbx=pbx).start()
    try:
        (tmp_path / "calls").mkdir()
        asyncio.run(place_calls(lab, tmp_path / "calls", PATHS))
        wait_for_rings(run, pbx, HAND_COUNT)
        live = metric_figures(run, pbx)
        print("live /metrics", live)
        assert live == (HAND_COUNT, without_zeros(WITHIN)), "/metrics"
        assert report_figures(db_url, pbx) == live, "the report's Jadual 2"

        run.stop()  # a restart: the ring counter comes back from the store
        run.start()
        assert metric_figures(run, pbx) == live, "/metrics after a restart"

        run.kill9()  # a gap: these calls happen while nobody listens
        (tmp_path / "gap").mkdir()
        asyncio.run(place_calls(lab, tmp_path / "gap", GAP_PATHS))
        run.start()  # the queue_log backfill runs before /metrics answers
        backfilled = metric_figures(run, pbx)
        print("after the gap", backfilled)
        assert backfilled == (dict(Counter(HAND_COUNT) + Counter(GAP)),
                              dict(Counter(without_zeros(WITHIN)) + Counter(GAP_WITHIN))), \
            "/metrics after the gap"
        assert report_figures(db_url, pbx) == backfilled, "the report after the gap"
    finally:
        run.stop()
