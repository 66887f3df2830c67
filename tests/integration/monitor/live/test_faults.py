"""Nothing lost, nothing counted twice: kill -9 during 100 calls, and a cut AMI link backfilled.

Both with SQLite and with the lab's PostgreSQL.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from lab import Lab
from lab.calls import place_inbound_call, set_phone
from monitor.ami import AmiClient
from monitor.core.records import Outcome
from monitor.store import open_store
from tests.integration.monitor.store.test_store_postgres import fresh_schema_url
from tests.support.ami_proxy import AmiProxy
from tests.support.calls_helper import QueueWatcher, utc_window
from tests.support.monitor_run import MonitorRun, wait_for

CALLS = 100


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, lab: Lab, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/faults.db"
    else:
        with fresh_schema_url(lab) as url:
            yield url


async def place_calls(ami: AmiClient, count: int, *, tag: str) -> None:
    """Calls arrive ~8 a second; every 10th caller gives up after 1 s unanswered."""
    for n in range(count):
        if n % 10 == 9:
            await place_inbound_call(ami, caller_id=f"{tag}{n:03d}", patience=1,
                                     answer_after=999)
        else:
            await place_inbound_call(ami, caller_id=f"{tag}{n:03d}", patience=120,
                                     answer_after=0.2)
        await asyncio.sleep(0.12)


async def quick_receptionists(ami: AmiClient) -> None:
    """Receptionists who talk 0.2 s; each call says when its phone answers (or never)."""
    for phone in ("r1", "r2", "r3"):
        await set_phone(ami, phone, answer_after=999, talk_for=0.2)


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


def check_store(db_url: str, pbx: str, window: list[object], calls: int) -> None:
    with open_store(db_url) as store:
        legs = list(store.legs_between(window[0], window[1], pbx=pbx))  # type: ignore[arg-type]
    assert len(legs) == calls
    assert len({leg.leg_id for leg in legs}) == calls
    assert [leg for leg in legs if leg.outcome is Outcome.IN_PROGRESS] == []


async def test_kill_9_during_100_calls_then_restart_counts_each_call_once(
        lab: Lab, ami: AmiClient, db_url: str) -> None:
    pbx = f"lab-kill-{uuid.uuid4().hex[:6]}"
    run = MonitorRun(lab, db_url, pbx=pbx).start()
    try:
        await quick_receptionists(ami)
        base_offered, base_settled = settled_counts(run, pbx)
        with utc_window() as window:
            async with QueueWatcher(ami) as watcher:
                placing = asyncio.create_task(place_calls(ami, CALLS, tag="0366"))
                await asyncio.to_thread(wait_for, lambda: settled_counts(run, pbx)[0]
                                        - base_offered >= 30, 60, "30 calls offered")
                run.kill9()
                await asyncio.sleep(2)
                run.start()
                await placing
                await watcher.wait_left(CALLS, timeout=180)
        await wait_settled(run, pbx, (base_offered, base_settled), CALLS, 30)
        assert settled_counts(run, pbx) == (base_offered + CALLS, base_settled + CALLS)
        check_store(db_url, pbx, window, CALLS)
    finally:
        run.stop()


async def test_a_cut_ami_link_is_backfilled_from_queue_log(lab: Lab, ami: AmiClient,
                                                            db_url: str) -> None:
    pbx = f"lab-gap-{uuid.uuid4().hex[:6]}"
    proxy_port = lab.config.ports.ami + 50
    proxy = AmiProxy(listen_port=proxy_port, upstream_port=lab.config.ports.ami)
    await proxy.open()
    run = MonitorRun(lab, db_url, pbx=pbx)
    run.env["CALLSLA_AMI_URL"] = lab.config.ami_url.replace(f":{lab.config.ports.ami}",
                                                            f":{proxy_port}")
    await asyncio.to_thread(run.start)
    try:
        await quick_receptionists(ami)
        base_offered, base_settled = settled_counts(run, pbx)
        runs_before = run.value("callsla_monitor_backfill_runs_total", pbx=pbx)
        with utc_window() as window:
            async with QueueWatcher(ami) as watcher:
                await place_calls(ami, 10, tag="0377")
                await proxy.cut()
                await place_calls(ami, 20, tag="0378")
                await watcher.wait_left(30, timeout=120)
                await proxy.open()
        await wait_settled(run, pbx, (base_offered, base_settled), 30, 60)
        assert run.value("callsla_monitor_backfill_runs_total", pbx=pbx) > runs_before
        assert run.value("callsla_monitor_backfill_legs_total", pbx=pbx) > 0
        check_store(db_url, pbx, window, 30)
    finally:
        run.stop()
        await proxy.cut()


async def test_direct_calls_during_a_cut_ami_link_are_backfilled_from_cdr(
        lab: Lab, ami: AmiClient, db_url: str) -> None:
    pbx = f"lab-cdr-{uuid.uuid4().hex[:6]}"
    proxy_port = lab.config.ports.ami + 51
    proxy = AmiProxy(listen_port=proxy_port, upstream_port=lab.config.ports.ami)
    await proxy.open()
    run = MonitorRun(lab, db_url, pbx=pbx, queue_log=False, cdr_csv=True)
    run.env["CALLSLA_AMI_URL"] = lab.config.ami_url.replace(f":{lab.config.ports.ami}",
                                                            f":{proxy_port}")
    await asyncio.to_thread(run.start)
    labels = {"pbx": pbx, "queue": "", "department": ""}

    def direct_counts() -> tuple[float, float, float]:
        return (run.value("callsla_calls_offered_total", **labels),
                run.value("callsla_calls_answered_total", **labels),
                run.value("callsla_calls_missed_total", cause="timeout", **labels))

    try:
        base = direct_counts()
        with utc_window() as window:
            await place_inbound_call(ami, dialled="r1", context="lab-direct", answer_after=1,
                                     patience=1, caller_id="0399900001")
            await asyncio.to_thread(wait_for, lambda: direct_counts()[1] == base[1] + 1, 20,
                                    "the live direct call")
            await proxy.cut()
            for n, answer_after in enumerate((1, 999, 1, 999)):
                await place_inbound_call(ami, dialled=f"r{n % 3 + 1}", context="lab-direct",
                                         answer_after=answer_after, patience=1,
                                         caller_id=f"039990001{n}")
            await asyncio.sleep(7)  # every ring over (answered after 1 s or given up at 4 s)
            await proxy.open()
        await asyncio.to_thread(wait_for, lambda: direct_counts() == (
            base[0] + 5, base[1] + 3, base[2] + 2), 60, "the cut calls backfilled from CDR")
        assert run.value("callsla_monitor_backfill_legs_total", pbx=pbx, source="cdr_csv") > 0
        check_store(db_url, pbx, window, 5)
    finally:
        run.stop()
        await proxy.cut()


async def test_postgresql_going_away_mid_run_loses_nothing(lab: Lab, ami: AmiClient) -> None:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    base_url = lab.config.postgres_url
    with psycopg.connect(base_url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    db_url = f"{base_url}?options=-csearch_path%3D{schema}"
    pbx = f"lab-pgdown-{uuid.uuid4().hex[:6]}"
    run = MonitorRun(lab, db_url, pbx=pbx).start()
    try:
        await quick_receptionists(ami)
        base_offered, base_settled = settled_counts(run, pbx)
        with utc_window() as window:
            async with QueueWatcher(ami) as watcher:
                await place_calls(ami, 10, tag="0344")
                await asyncio.to_thread(lab.postgres.stop)
                await place_calls(ami, 10, tag="0345")
                await watcher.wait_left(20, timeout=120)
                await asyncio.to_thread(lab.postgres.start)
        await wait_settled(run, pbx, (base_offered, base_settled), 20, 90)
        check_store(db_url, pbx, window, 20)
    finally:
        run.stop()
        with psycopg.connect(base_url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")
