"""The call paths of tests/data/sip_traces/README.md on real SIP phones, counted by a real
`callsla monitor`: exact figures per queue, department and person on /metrics and in the store,
against a hand count from docs/architecture.md; the front desk against Asterisk's own
ServicelevelPerf; and an Asterisk crash (kill -9) and a `core restart now` in the middle of
calls: the waiting callers' legs are missed, `lost`.

Paths that use disjoint phones run side by side (the front-desk paths with the direct calls to
2101/2102) so the file stays within a few minutes; each path still sees only its own AMI events.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lab import Lab
from lab.processes import port_open
from lab.sip.phones import SipPhones, sip_phones
from lab.sip.scenarios import Answer, NoAnswer
from monitor.ami import AmiMessage
from monitor.core.records import CallLeg, Outcome
from monitor.store import open_store
from tests.support import sip_traces
from tests.support.callflow_harness import AmiLog, CallFlowRig, start_rig
from tests.support.monitor_run import MonitorRun, wait_for

CALLER = sip_traces.CALLER
FRONT_DESK = "frontdesk"

# ---- the hand count (README table + docs/architecture.md) ----
# (offered, answered, answered within 10 s, returned, {missed cause: n}) per queue / department.
# frontdesk: a, b, c, d, e (entry and its return), f, g1, h, m (the return): 10 offered; c is
# abandoned; b waited 12 s; every other answer came within 3 s.
# finance (2101, 2102 per asterisk_conf/officers.toml): d, f, g1, h (transfers), i, j, l
# (direct): 7 offered, 6 answered, one within 10 s: f (9.73 s from the marker on 101's second
# line); the others include the announcement from the CALLSLA_OFFICER_WAIT marker (d 10.73,
# g1 10.73, i 12.42, j 21.30, l 12.31 s); h's caller gave up waiting for busy 2101:
# transfer_unanswered.
# licensing (2201): e (transfer) and m (direct) both rang out and went back: returned, not missed.
# k is staff to staff: nothing anywhere.
EXPECTED: dict[tuple[str, str], tuple[int, int, int, int, dict[str, int]]] = {
    ("queue", FRONT_DESK): (10, 9, 8, 0, {"abandoned": 1}),
    ("department", "finance"): (7, 6, 1, 0, {"transfer_unanswered": 1}),
    ("department", "licensing"): (2, 0, 0, 2, {}),
}
# callsla_person_rings_total{person,result}, summed over the paths.
RECEPTIONIST = {"101": "Reception 101", "102": "Reception 102"}  # the SIP members' names
EXPECTED_RINGS: dict[tuple[str, str], int] = {
    # 101: a, d, e (twice), f, g1, h, m answered; b (ring-no-answer) and c (abandoned) not.
    (RECEPTIONIST["101"], "answered"): 8,
    (RECEPTIONIST["101"], "not_answered"): 2,
    # 102: a cancelled when 101 answered; b answered; c not answered.
    (RECEPTIONIST["102"], "answered_elsewhere"): 1,
    (RECEPTIONIST["102"], "answered"): 1,
    (RECEPTIONIST["102"], "not_answered"): 1,
    # 2101: d, f, g1, l answered; i picked up by 2102 (same leg); j forwarded (302) before
    # anyone answered; h busy: never rung for the customer.
    ("2101", "answered"): 4,
    ("2101", "answered_elsewhere"): 1,
    ("2101", "not_answered"): 1,
    ("2102", "answered"): 2,  # i (the pickup) and j (the forward's target)
    ("2201", "not_answered"): 2,  # e and m
}
# Asterisk's app_queue, summed over the queue paths (it is reloaded, so zeroed, per path).
EXPECTED_APP_QUEUE = {"completed": 9, "abandoned": 1, "within_servicelevel": 8}


# ---- running paths side by side ----

@dataclass
class PathLog:
    """A path's view of the shared AMI log: only events from its start, minus `exclude`."""

    log: AmiLog
    start: int
    exclude: Callable[[AmiMessage], bool] = lambda e: False
    events: list[AmiMessage] = field(default_factory=list)

    async def wait_for(self, match: Callable[[AmiMessage], bool], timeout: float,
                       what: str) -> AmiMessage:
        seen = self.start
        async with asyncio.timeout(timeout):
            while True:
                for event in self.log.events[seen:]:
                    if not self.exclude(event) and match(event):
                        return event
                seen = len(self.log.events)
                self.log.changed.clear()
                await self.log.changed.wait()
        raise AssertionError(what)  # pragma: no cover - timeout raises first


class NoFrontDesk:
    """A SipPhones whose `use_front_desk` is a no-op: for a path that uses no queue, run while
    another path owns the front desk (the officer dialling is already SIP)."""

    def __init__(self, phones: SipPhones) -> None:
        self._phones = phones

    async def use_front_desk(self, *args: Any, **kwargs: Any) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._phones, name)


def aside_phones(lab: Lab, first_slot: int, count_from: int) -> SipPhones:
    """A second set of SIPp runs with its own dynamic ports and folder names; stopped by
    `stop_aside` (its processes only: the front desk stays with the main set)."""
    aside = SipPhones(lab)
    aside._next_slot = iter(range(first_slot, 50))
    aside._count = count_from
    return aside


def stop_aside(aside: SipPhones) -> None:
    for caller in aside.callers:
        caller.recorder.close()
    for phone in aside.phones:
        phone.stop()
    for run in aside.runs:
        run.stop()


async def run_path(name: str, phones: SipPhones | NoFrontDesk, rig: CallFlowRig,
                   exclude: Callable[[AmiMessage], bool] = lambda e: False,
                   path: Callable[[Any, Any], Awaitable[None]] | None = None) -> None:
    """Run one path and wait until every phone and call it started is over."""
    real: SipPhones = phones._phones if isinstance(phones, NoFrontDesk) else phones
    marks = len(real.callers), len(real.phones), len(real.runs)
    view = replace(rig, log=PathLog(rig.log, len(rig.log.events), exclude))  # type: ignore[arg-type]
    await (path or sip_traces.PATHS[name])(phones, view)  # type: ignore[arg-type]
    deadline = time.monotonic() + 150
    for caller in real.callers[marks[0]:]:
        await caller.finished(max(deadline - time.monotonic(), 0.1))
    for phone in real.phones[marks[1]:]:
        await phone.finished(max(deadline - time.monotonic(), 0.1))
    for run in real.runs[marks[2]:]:
        await run.finished(max(deadline - time.monotonic(), 0.1))


async def h_busy_officer_short(phones: SipPhones, rig: CallFlowRig) -> None:
    """(h), shorter: the caller hears one status message (17 s) and hangs up 25 s after the PBX
    answered, while 2101 is still busy. With 103 busy for 32 s, 2101 came free 2.6 s before
    the customer gave up and the flow rang 2101 for them (a real ring, not_answered, which the
    monitor counted; SIPp then saw the INVITE's retransmission in the next block)."""
    await sip_traces.h_busy_officer_abandoned(phones, rig, busy_for=42, patience=25)


async def queue_params(rig: CallFlowRig) -> dict[str, str]:
    start = len(rig.log.events)
    reply = await rig.ami.action("QueueStatus", Queue=FRONT_DESK)
    assert reply.succeeded, reply
    view = PathLog(rig.log, start)
    found = await view.wait_for(lambda e: e.event == "QueueParams"
                                and e.get("queue") == FRONT_DESK, 10, "QueueParams")
    return dict(found)


def add_app_queue(total: Counter[str], params: dict[str, str]) -> None:
    """app_queue's figures of one path: ServicelevelPerf is within / completed * 100."""
    completed = int(params["completed"])
    total["completed"] += completed
    total["abandoned"] += int(params["abandoned"])
    total["within_servicelevel"] += round(float(params["servicelevelperf"]) * completed / 100)


# ---- figures ----

def store_legs(db_url: str, pbx: str, since: datetime) -> list[CallLeg]:
    with open_store(db_url) as store:
        return list(store.legs_between(since, datetime.now(UTC) + timedelta(minutes=5),
                                       pbx=pbx))


def figures_of(legs: list[CallLeg], label: str, value: str) -> tuple[int, int, int, int,
                                                                     dict[str, int]]:
    mine = [leg for leg in legs if getattr(leg, label) == value]
    answered = [leg for leg in mine if leg.outcome is Outcome.ANSWERED]
    within = [leg for leg in answered if (leg.answer_wait_seconds or 0) <= 10]
    returned = [leg for leg in mine if leg.outcome is Outcome.RETURNED]
    missed = Counter(str(leg.missed_cause) for leg in mine if leg.outcome is Outcome.MISSED)
    return len(mine), len(answered), len(within), len(returned), dict(missed)


def metric_figures(run: MonitorRun, pbx: str, label: str, value: str) -> tuple[
        int, int, int, int, dict[str, int]]:
    samples = run.samples()

    def total(name: str, **labels: str) -> int:
        want = {("pbx", pbx), (label, value), *labels.items()}
        return int(sum(v for (n, ls), v in samples.items() if n == name and want <= ls))

    missed = {}
    for (n, ls), _v in samples.items():
        labels = dict(ls)
        if (n == "callsla_calls_missed_total" and labels.get("pbx") == pbx
                and labels.get(label) == value):
            count = total(n, cause=labels["cause"])
            if count:
                missed[labels["cause"]] = count
    return (total("callsla_calls_offered_total"), total("callsla_calls_answered_total"),
            total("callsla_answer_wait_seconds_bucket", le="10.0"),
            total("callsla_transfers_returned_total"), missed)


def person_rings(run: MonitorRun, pbx: str) -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    for (n, ls), v in run.samples().items():
        labels = dict(ls)
        if n == "callsla_person_rings_total" and labels.get("pbx") == pbx and v:
            found[(labels["person"], labels["result"])] = int(v)
    return found


def monitor_env_default_customers() -> None:
    os.environ.pop("CALLSLA_CUSTOMER_CONTEXTS", None)  # the default: from-pstn


# ---- test 1: the scripted paths ----

@dataclass
class PathsOutcome:
    pbx: str
    legs: list[CallLeg]
    metrics: dict[tuple[str, str], tuple[int, int, int, int, dict[str, int]]]
    rings: dict[tuple[str, str], int]
    app_queue: Counter[str]


@pytest.fixture(scope="module")
def paths_outcome(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> PathsOutcome:
    """Run the paths once against one monitor; the tests below check its figures."""
    return asyncio.run(_run_paths(lab, tmp_path_factory.mktemp("sip-paths")))


async def _run_paths(lab: Lab, work: Path) -> PathsOutcome:
    monitor_env_default_customers()
    pbx = f"lab-sip-{uuid.uuid4().hex[:6]}"
    db_url = f"sqlite:///{work}/paths.db"
    since = datetime.now(UTC) - timedelta(seconds=5)
    run = MonitorRun(lab, db_url, pbx=pbx).start()
    app_queue: Counter[str] = Counter()
    rig = await start_rig(lab, work)
    try:
        async with sip_phones(lab) as phones:
            await phones.use_front_desk(["101"], strategy="rrmemory")  # officer dialling: SIP

            async def queue_chain(names: list[str], exclude: Callable[[AmiMessage], bool]
                                  = lambda e: False) -> None:
                for name in names:
                    path = h_busy_officer_short if name == "h" else None
                    await run_path(name, phones, rig, exclude, path)
                    await asyncio.sleep(1)  # app_queue counts a call when it ends
                    add_app_queue(app_queue, await queue_params(rig))

            async def aside_chain(names: list[str], first_slot: int, count_from: int) -> None:
                aside = aside_phones(lab, first_slot, count_from)
                try:
                    for name in names:
                        await run_path(name, NoFrontDesk(aside), rig)
                finally:
                    stop_aside(aside)

            def officer_dial(e: AmiMessage) -> bool:  # the direct calls' events, for (b)
                return e.get("destchannel", "").startswith(("PJSIP/21", "Local/21"))

            # Block 1: front desk 101/102 and 2201 beside direct calls to 2101/2102.
            await asyncio.gather(
                queue_chain(["a_ringall_one_answers", "b_rrmemory_ring_no_answer",
                             "c_caller_abandons", "e_blind_refer_returned"], officer_dial),
                aside_chain(["i_pickup", "j_forward", "l_direct_answered"], 30, 500))
            # Block 2: transfers to 2101, one after another.
            await queue_chain(["d_blind_refer_answered", "g1_dtmf_blind", "f_attended_refer",
                               "h"])
            # Block 3: the direct call returned, beside the staff call 101 -> 2101.
            await asyncio.gather(queue_chain(["m_direct_returned"]),
                                 aside_chain(["k_internal"], 40, 700))
            await sip_traces.wait_idle(lab)

        def settled() -> bool:
            legs = store_legs(db_url, pbx, since)
            return (len(legs) >= 19
                    and all(leg.outcome is not Outcome.IN_PROGRESS for leg in legs))
        await asyncio.to_thread(wait_for, settled, 20, "every leg closed in the store")
        await asyncio.sleep(1)
        metrics = {key: metric_figures(run, pbx, *key) for key in EXPECTED}
        legs = store_legs(db_url, pbx, since)
        for leg in legs:  # shown with -s: what the monitor measured, leg by leg
            print(f"{leg.kind:11} {leg.queue or leg.department:10} {leg.officer:5} "
                  f"{leg.outcome:9} {leg.missed_cause or '':20} wait={leg.answer_wait_seconds} "
                  f"by={leg.answered_by}")
        print(metrics, person_rings(run, pbx), dict(app_queue))
        return PathsOutcome(pbx=pbx, legs=legs, metrics=metrics,
                            rings=person_rings(run, pbx), app_queue=app_queue)
    finally:
        await rig.close()
        run.stop()


@pytest.mark.parametrize("key", list(EXPECTED), ids=lambda k: f"{k[0]}={k[1]}")
def test_paths_figures_match_hand_count(paths_outcome: PathsOutcome,
                                        key: tuple[str, str]) -> None:
    label, value = key
    assert paths_outcome.metrics[key] == EXPECTED[key], "/metrics"
    assert figures_of(paths_outcome.legs, label, value) == EXPECTED[key], "store"


def test_paths_leave_no_leg_in_progress(paths_outcome: PathsOutcome) -> None:
    legs = paths_outcome.legs
    assert [leg.leg_id for leg in legs if leg.outcome is Outcome.IN_PROGRESS] == []
    # Every leg is in one of the three figures above: nothing else was counted (k's staff call).
    assert len(legs) == sum(expected[0] for expected in EXPECTED.values())
    assert {leg.caller_number for leg in legs} == {CALLER}


def test_paths_person_rings(paths_outcome: PathsOutcome) -> None:
    assert paths_outcome.rings == EXPECTED_RINGS


def test_front_desk_agrees_with_servicelevelperf(paths_outcome: PathsOutcome) -> None:
    """app_queue's figures (summed over the paths: each reloads it) against the monitor's.
    They differ in *when* and *what*, not in these totals: app_queue counts a call when the
    caller leaves the queue's bridge, and a blind- or attended-transferred call (d, e, f, g1,
    h) is `completed` there the moment the receptionist hands it on, whatever the officer
    then does (h's caller gave up, e's came back); the monitor closes the front-desk leg as
    answered at the receptionist's answer and counts what follows as an officer leg of its own
    (finance, licensing), which app_queue never sees. e's and m's returns are new queue entries
    in both. ServicelevelPerf divides by completed (answered), the charter's rate by offered."""
    fd = paths_outcome.metrics[("queue", FRONT_DESK)]
    assert dict(paths_outcome.app_queue) == EXPECTED_APP_QUEUE
    assert paths_outcome.app_queue["completed"] == fd[1]
    assert paths_outcome.app_queue["within_servicelevel"] == fd[2]
    assert paths_outcome.app_queue["abandoned"] == fd[4].get("abandoned", 0)


# ---- test 2: Asterisk crashes, or is restarted, with callers waiting ----

def crash(lab: Lab) -> None:
    """kill -9: no Hangup events, the PBX just vanishes; then it is started again."""
    assert lab.pbx is not None
    assert lab.pbx.process.process is not None
    proc = lab.pbx.process.process
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    lab.pbx.start()


def restart(lab: Lab) -> None:
    """An administrator's `core restart now`: Asterisk hangs every channel up, then re-executes
    itself (the same process, as systemd's Restart would start a new one)."""
    assert lab.pbx is not None
    with contextlib.suppress(Exception):  # the remote console may lose the PBX mid-reply
        lab.pbx.cli("core restart now", timeout=10)
    wait_for(lambda: not port_open(lab.config.ports.ami), 20, "Asterisk to go down")
    wait_for(lambda: port_open(lab.config.ports.ami), 60, "Asterisk to come back")
    lab.pbx.cli("core waitfullybooted")


# Both ways of losing the PBX leave the three waiting callers missed, cause `lost`, not
# abandoned: they did not hang up. A crash sends nothing, so the monitor closes the vanished
# legs on reconnecting. A restart hangs every channel up first and AMI reports it: a
# `SoftHangupRequest` with Cause 4 (AST_SOFTHANGUP_SHUTDOWN) per channel, then app_queue's
# `QueueCallerAbandon`; before the monitor read that cause it counted all three `abandoned`.
LOST_WHILE_WAITING = {("front_desk", "missed", "lost"): 2, ("direct", "missed", "lost"): 1}
PBX_LOSSES: dict[str, Callable[[Lab], None]] = {"kill -9": crash, "core restart now": restart}


@pytest.mark.parametrize("how", list(PBX_LOSSES))
async def test_pbx_lost_mid_call_leaves_no_leg_in_progress(lab: Lab, tmp_path: Path,
                                                           how: str) -> None:
    lose_pbx = PBX_LOSSES[how]
    monitor_env_default_customers()
    pbx = f"lab-crash-{uuid.uuid4().hex[:6]}"
    db_url = f"sqlite:///{tmp_path}/crash.db"
    since = datetime.now(UTC) - timedelta(seconds=5)
    assert lab.pbx is not None
    run = MonitorRun(lab, db_url, pbx=pbx, queue_log=False).start()
    rig = await start_rig(lab, tmp_path)
    restarted = False
    try:
        async with sip_phones(lab) as phones:
            await phones.use_front_desk(["101"], strategy="rrmemory")
            phones.receptionist("101", NoAnswer())
            phones.officer("2101", Answer(after=1, wait_for_bye=True))
            phones.call_from("103", "2101", talk=120)  # 2101 busy (a staff call: not a leg)
            await rig.log.wait_for(lambda e: e.event == "DialEnd"
                                   and e.get("dialstatus") == "ANSWER", 30, "2101 busy")
            await phones.call_in(CALLER, name="Ali Caller", dialled="2101", patience=120)
            for n in range(2):
                await phones.call_in(f"03123400{n:02d}", name="Queue Caller", patience=120)

            def waiting() -> bool:
                legs = store_legs(db_url, pbx, since)
                return (len(legs) == 3
                        and all(leg.outcome is Outcome.IN_PROGRESS for leg in legs))
            await asyncio.to_thread(wait_for, waiting, 40, "3 legs waiting in the store")
            assert run.value("callsla_callers_waiting", pbx=pbx) >= 2

            await asyncio.to_thread(lose_pbx, lab)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(rig.close(), 5)
            restarted = True
        # SIPp phones of the crashed calls are stopped above; the restarted PBX is idle.
        await asyncio.to_thread(wait_for, run._healthy, 30, "the monitor to reconnect")

        def closed() -> bool:
            legs = store_legs(db_url, pbx, since)
            return len(legs) == 3 and all(leg.outcome is not Outcome.IN_PROGRESS
                                          for leg in legs)
        await asyncio.to_thread(wait_for, closed, 30, "the vanished legs closed")
        legs = store_legs(db_url, pbx, since)
        by_kind = Counter((str(leg.kind), str(leg.outcome), str(leg.missed_cause))
                          for leg in legs)
        assert by_kind == LOST_WHILE_WAITING, by_kind
        await asyncio.sleep(1)
        samples_total = {
            "offered": int(run.value("callsla_calls_offered_total", pbx=pbx)),
            "answered": int(run.value("callsla_calls_answered_total", pbx=pbx)),
            "lost": int(run.value("callsla_calls_missed_total", pbx=pbx, cause="lost")),
            "missed": int(run.value("callsla_calls_missed_total", pbx=pbx)),
        }
        from_store = {
            "offered": len(legs),
            "answered": sum(leg.outcome is Outcome.ANSWERED for leg in legs),
            "lost": sum(str(leg.missed_cause) == "lost" for leg in legs),
            "missed": sum(leg.outcome is Outcome.MISSED for leg in legs),
        }
        assert samples_total == from_store == {"offered": 3, "answered": 0, "lost": 3,
                                               "missed": 3}
        assert run.value("callsla_callers_waiting", pbx=pbx) == 0
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(rig.close(), 5)
        run.stop()
        if not restarted or not lab.pbx.process.running():
            lab.pbx.start()  # later modules' quiet_pbx needs a running PBX
