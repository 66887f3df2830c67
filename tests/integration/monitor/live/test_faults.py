"""Nothing lost, nothing counted twice: kill -9 during 100 calls, a cut AMI link backfilled,
PostgreSQL stopped and started, and a full disk for the SQLite store.

The first two both with SQLite and with the lab's PostgreSQL. The callers are SIP user agents
on the lab's trunk (one SIPp places many calls); the front desk is three SIP receptionists'
phones that answer within 0.2 s and talk 0.2 s, and never answer the callers who give up.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from lab import Lab
from lab.sip.phones import SipPhones, SippRun, sip_phones
from lab.sip.scenarios import Answer, NoAnswer
from monitor.ami import AmiClient
from monitor.core.records import Outcome
from monitor.store import open_store
from tests.integration.monitor.store.test_store_postgres import fresh_schema_url
from tests.support.ami_proxy import AmiProxy
from tests.support.calls_helper import QueueWatcher, utc_window
from tests.support.full_disk import fill_disk
from tests.support.monitor_run import MonitorRun, wait_for

CALLS = 100
RECEPTIONISTS = ("101", "102", "103")
CALLS_PER_SECOND = 8.3  # ~0.12 s apart
# A caller number is <tag>0<n> for one who waits to be answered, <tag>9<n> for one who gives
# up after 1 s; the receptionists never answer the latter (tags are four digits).
GIVES_UP = "0[0-9]{3}9"
DIRECT_TRUNK = "direct-trunk"  # lab/asterisk_local/pjsip.conf: a plain Dial, no scripts


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, lab: Lab, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/faults.db"
    else:
        with fresh_schema_url(lab) as url:
            yield url


@pytest.fixture
async def front_desk(lab: Lab) -> AsyncIterator[SipPhones]:
    """Receptionists who answer after 0.2 s and talk 0.2 s, serving until the test ends."""
    async with sip_phones(lab) as phones:
        await phones.use_front_desk(RECEPTIONISTS, strategy="rrmemory")
        for extension in RECEPTIONISTS:
            phone = phones.receptionist(
                extension, Answer(after=0.2, talk=0.2, ignore=GIVES_UP), calls=None)
            await phone.ready_for(0)
        yield phones


async def place_calls(phones: SipPhones, watcher: QueueWatcher, count: int, *,
                      tag: str) -> list[SippRun]:
    """Calls arrive ~8 a second; every 10th caller gives up after 1 s unanswered. Returns
    once all `count` callers are in the queue; the calls go on."""
    joined = len(watcher.joined)
    gives_up = count // 10
    runs = [phones.calls_in(count - gives_up, numbers=f"{tag}0", patience=120,
                            per_second=CALLS_PER_SECOND * (count - gives_up) / count)]
    if gives_up:
        runs.append(phones.calls_in(gives_up, numbers=f"{tag}9", patience=1,
                                    per_second=CALLS_PER_SECOND * gives_up / count))
    await watcher.wait_joined(joined + count, timeout=count / CALLS_PER_SECOND + 30)
    return runs


async def calls_over(runs: list[SippRun], timeout: float) -> None:
    """Every caller's call ended as its scenario says (answered and hung up, or gave up)."""
    for run in runs:
        await run.finished(timeout)


async def wait_settled(run: MonitorRun, pbx: str, base: tuple[float, float], calls: int,
                       timeout: float) -> None:
    want = (base[0] + calls, base[1] + calls)
    try:
        await asyncio.to_thread(wait_for, lambda: settled_counts(run, pbx) == want, timeout,
                                f"{calls} more calls offered and settled")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: (offered, settled) {settled_counts(run, pbx)}, "
                             f"want {want}") from None


def settled_counts(run: MonitorRun, pbx: str) -> tuple[float, float]:
    offered = run.value("callsla_calls_offered_total", pbx=pbx)
    settled = (run.value("callsla_calls_answered_total", pbx=pbx)
               + run.value("callsla_calls_missed_total", pbx=pbx))
    return offered, settled


async def monitor_behind_proxy(lab: Lab, db_url: str, pbx: str, *, queue_log: bool = True,
                               cdr_csv: bool = False) -> tuple[MonitorRun, AmiProxy]:
    """A started monitor whose AMI link goes through a proxy the test can cut."""
    proxy = AmiProxy(upstream_port=lab.config.ports.ami)
    await proxy.open()
    run = MonitorRun(lab, db_url, pbx=pbx, queue_log=queue_log, cdr_csv=cdr_csv)
    run.env["CALLSLA_AMI_URL"] = lab.config.ami_url.replace(f":{lab.config.ports.ami}",
                                                            f":{proxy.listen_port}")
    await asyncio.to_thread(run.start)
    return run, proxy


def check_store(db_url: str, pbx: str, window: list[object], calls: int, *,
                missed: dict[str, int]) -> None:
    """Each call once, none in progress, and exactly the callers who gave up missed."""
    with open_store(db_url) as store:
        legs = list(store.legs_between(window[0], window[1], pbx=pbx))  # type: ignore[arg-type]
    assert len(legs) == calls
    assert len({leg.leg_id for leg in legs}) == calls
    assert [leg for leg in legs if leg.outcome is Outcome.IN_PROGRESS] == []
    assert Counter(str(leg.missed_cause) for leg in legs
                   if leg.outcome is Outcome.MISSED) == missed
    assert sum(leg.outcome is Outcome.ANSWERED for leg in legs) == calls - sum(missed.values())


async def test_kill_9_during_100_calls_then_restart_counts_each_call_once(
        lab: Lab, ami: AmiClient, db_url: str, front_desk: SipPhones) -> None:
    pbx = f"lab-kill-{uuid.uuid4().hex[:6]}"
    run = MonitorRun(lab, db_url, pbx=pbx).start()
    try:
        base_offered, base_settled = settled_counts(run, pbx)
        with utc_window() as window:
            async with QueueWatcher(ami) as watcher:
                placing = asyncio.create_task(place_calls(front_desk, watcher, CALLS,
                                                          tag="0366"))
                await asyncio.to_thread(wait_for, lambda: settled_counts(run, pbx)[0]
                                        - base_offered >= 30, 60, "30 calls offered")
                run.kill9()
                await asyncio.sleep(2)
                run.start()
                await calls_over(await placing, timeout=180)
                await watcher.wait_left(CALLS, timeout=180)
        await wait_settled(run, pbx, (base_offered, base_settled), CALLS, 30)
        assert settled_counts(run, pbx) == (base_offered + CALLS, base_settled + CALLS)
        check_store(db_url, pbx, window, CALLS, missed={"abandoned": CALLS // 10})
    finally:
        run.stop()


async def test_a_cut_ami_link_is_backfilled_from_queue_log(
        lab: Lab, ami: AmiClient, db_url: str, front_desk: SipPhones) -> None:
    pbx = f"lab-gap-{uuid.uuid4().hex[:6]}"
    run, proxy = await monitor_behind_proxy(lab, db_url, pbx)
    try:
        base_offered, base_settled = settled_counts(run, pbx)
        runs_before = run.value("callsla_monitor_backfill_runs_total", pbx=pbx)
        with utc_window() as window:
            async with QueueWatcher(ami) as watcher:
                calls = await place_calls(front_desk, watcher, 10, tag="0377")
                await proxy.cut()
                calls += await place_calls(front_desk, watcher, 20, tag="0378")
                await calls_over(calls, timeout=120)
                await watcher.wait_left(30, timeout=120)
                await proxy.open()
        await wait_settled(run, pbx, (base_offered, base_settled), 30, 60)
        assert run.value("callsla_monitor_backfill_runs_total", pbx=pbx) > runs_before
        assert run.value("callsla_monitor_backfill_legs_total", pbx=pbx) > 0
        check_store(db_url, pbx, window, 30, missed={"abandoned": 1 + 2})
    finally:
        run.stop()
        await proxy.cut()


async def test_direct_calls_during_a_cut_ami_link_are_backfilled_from_cdr(
        lab: Lab, db_url: str) -> None:
    pbx = f"lab-cdr-{uuid.uuid4().hex[:6]}"
    run, proxy = await monitor_behind_proxy(lab, db_url, pbx, queue_log=False, cdr_csv=True)
    labels = {"pbx": pbx, "queue": ""}  # direct legs, whatever the phone's department

    def direct_counts() -> tuple[float, float, float]:
        return (run.value("callsla_calls_offered_total", **labels),
                run.value("callsla_calls_answered_total", **labels),
                run.value("callsla_calls_missed_total", cause="timeout", **labels))

    try:
        base = direct_counts()
        with utc_window() as window:
            async with sip_phones(lab) as phones:
                phones.receptionist("101", Answer(after=1, talk=5))
                live = await phones.call_in("0399900001", dialled="101", patience=1,
                                            trunk=DIRECT_TRUNK)
                await asyncio.to_thread(wait_for, lambda: direct_counts()[1] == base[1] + 1,
                                        20, "the live direct call")
                await live.finished(20)
                await proxy.cut()
                # Answered after 1 s, or rung out by the 4 s Dial.
                cut = [("102", Answer(after=1, talk=5)), ("103", NoAnswer()),
                       ("2101", Answer(after=1, talk=5)), ("2102", NoAnswer())]
                for n, (extension, behaviour) in enumerate(cut):
                    phones.phone(extension, behaviour)
                    await phones.call_in(f"039990001{n}", dialled=extension, patience=1,
                                         trunk=DIRECT_TRUNK, may_ring_out=True)
                await phones.finished(30)  # every ring over, every call ended
            await proxy.open()
        await asyncio.to_thread(wait_for, lambda: direct_counts() == (
            base[0] + 5, base[1] + 3, base[2] + 2), 60, "the cut calls backfilled from CDR")
        assert run.value("callsla_monitor_backfill_legs_total", pbx=pbx, source="cdr_csv") > 0
        check_store(db_url, pbx, window, 5, missed={"timeout": 2})
    finally:
        run.stop()
        await proxy.cut()


async def test_postgresql_going_away_mid_run_loses_nothing(lab: Lab, ami: AmiClient,
                                                           front_desk: SipPhones) -> None:
    """PostgreSQL stopped for 10 calls and started again: the monitor logs the store's error,
    /healthz says not ok while it is down, recovers by itself, and backfills the gap."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    base_url = lab.config.postgres_url
    with psycopg.connect(base_url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    db_url = f"{base_url}?options=-csearch_path%3D{schema}"
    pbx = f"lab-pgdown-{uuid.uuid4().hex[:6]}"
    run = MonitorRun(lab, db_url, pbx=pbx).start()
    log_start = run.log_size()
    try:
        base_offered, base_settled = settled_counts(run, pbx)
        with utc_window() as window:
            async with QueueWatcher(ami) as watcher:
                calls = await place_calls(front_desk, watcher, 10, tag="0344")
                await asyncio.to_thread(lab.postgres.stop)
                calls += await place_calls(front_desk, watcher, 10, tag="0345")
                await asyncio.to_thread(wait_for, lambda: run.health()["ok"] is False, 30,
                                        "/healthz not ok while PostgreSQL is down")
                assert run.health()["store_error"]
                await calls_over(calls, timeout=120)
                await watcher.wait_left(20, timeout=120)
                await asyncio.to_thread(lab.postgres.start)
        await wait_settled(run, pbx, (base_offered, base_settled), 20, 90)
        check_store(db_url, pbx, window, 20, missed={"abandoned": 1 + 1})
        await asyncio.to_thread(wait_for, lambda: run.health()["ok"] is True, 30,
                                "/healthz ok again")
        logged = run.log_since(log_start)
        assert " ERROR monitor.ingest.ami_feed: store failed (" in logged, logged[-2000:]
        # retried each second, logged once a minute (the outage is shorter)
        assert logged.count("store failed") == 1, logged[-3000:]
        assert logged.count("store still unavailable") == 1, logged[-3000:]
    finally:
        run.stop()
        with psycopg.connect(base_url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


async def test_a_full_disk_for_the_store_loses_nothing_once_space_returns(
        lab: Lab, ami: AmiClient, front_desk: SipPhones,
        tmpfs: Callable[[str], Path]) -> None:
    """The SQLite store on a 4 MB disk that fills up while 10 calls come in: /healthz is not
    ok and says why while it is full; once space returns the monitor recovers by itself and
    the calls of the full-disk time are backfilled from queue_log, each counted once."""
    disk = tmpfs("4m")
    db_url = f"sqlite:///{disk}/calls.db"
    pbx = f"lab-full-{uuid.uuid4().hex[:6]}"
    run = MonitorRun(lab, db_url, pbx=pbx).start()
    try:
        base_offered, base_settled = settled_counts(run, pbx)
        with utc_window() as window:
            async with QueueWatcher(ami) as watcher:
                calls = await place_calls(front_desk, watcher, 10, tag="0355")
                await wait_settled(run, pbx, (base_offered, base_settled), 10, 60)
                filler = fill_disk(disk)
                calls += await place_calls(front_desk, watcher, 10, tag="0356")
                await asyncio.to_thread(wait_for, lambda: run.health()["ok"] is False, 30,
                                        "/healthz not ok on a full disk")
                assert "full" in str(run.health()["store_error"])
                await calls_over(calls, timeout=120)
                await watcher.wait_left(20, timeout=120)
                filler.unlink()
        await wait_settled(run, pbx, (base_offered, base_settled), 20, 60)
        check_store(db_url, pbx, window, 20, missed={"abandoned": 1 + 1})
        await asyncio.to_thread(wait_for, lambda: run.health()["ok"] is True, 30,
                                "/healthz ok once space returns")
    finally:
        run.stop()


async def test_callers_who_hang_up_during_an_ami_cut_are_accounted_for_with_ami_alone(
        lab: Lab, ami: AmiClient, front_desk: SipPhones, tmp_path: Path) -> None:
    """A PBX whose logs the monitor cannot read: three callers wait, AMI is cut, they hang up
    during the cut. At the reconnect their channels are gone: their legs close as missed,
    cause `lost` (the monitor cannot know they gave up), none is left in progress."""
    pbx = f"lab-amicut-{uuid.uuid4().hex[:6]}"
    db_url = f"sqlite:///{tmp_path}/amicut.db"
    run, proxy = await monitor_behind_proxy(lab, db_url, pbx, queue_log=False)
    try:
        base_offered, base_settled = settled_counts(run, pbx)
        with utc_window() as window:
            async with QueueWatcher(ami) as watcher:
                waiting = front_desk.calls_in(3, numbers="03889", patience=2.5, per_second=5)
                await watcher.wait_joined(3, timeout=30)
                await asyncio.to_thread(wait_for, lambda: settled_counts(run, pbx)[0]
                                        == base_offered + 3, 20, "3 callers offered")
                await proxy.cut()
                await waiting.finished(30)
                await watcher.wait_left(3, timeout=30)
                await proxy.open()
        await wait_settled(run, pbx, (base_offered, base_settled), 3, 60)
        assert run.value("callsla_calls_missed_total", pbx=pbx, cause="lost") == 3
        check_store(db_url, pbx, window, 3, missed={"lost": 3})
    finally:
        run.stop()
        await proxy.cut()
