"""Scripted calls with known waits and abandons give exact metric values; the monitor agrees with
Asterisk's own ServicelevelPerf, and Prometheus' 10-s rate equals the store's.

This is the Local-channel variant (issue 9), kept on purpose: some sites' queue members are
Local channels, so here the callers are AMI-originated Local channels and the receptionists
the lab's Local members in [lab-phones] (lab/calls.py). Every other monitor lab test rings
SIP phones (lab/sip/).
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest

from lab import Lab
from lab.calls import set_phone
from monitor.ami import AmiClient
from monitor.core.definitions import answer_rate
from monitor.store import open_store
from tests.support.calls_helper import QueueWatcher, call_and_wait, utc_window
from tests.support.monitor_run import MonitorRun, wait_for

# A label of its own, so Prometheus holds no earlier series of it (its storage outlives tests).
PBX = f"lab-scripted-{uuid.uuid4().hex[:6]}"
# (answer after s, patience s): four answered (3, 12, 6, 8.5 s), two abandoned (5, 14 s).
# The queue may add up to a second before it rings (it rechecks waiting callers each second),
# so every wait sits more than a second below the next bucket edge and away from 10 s.
SCRIPT = [(3, 120), (12, 120), (6, 120), (8.5, 120), (999, 5), (999, 14)]
EXPECTED_BUCKETS = {"1.0": 0, "2.0": 0, "5.0": 1, "8.0": 2, "10.0": 3, "15.0": 4, "+Inf": 4}


def prometheus(lab: Lab, expr: str) -> float | None:
    url = f"{lab.config.prometheus_url}/api/v1/query?query={urllib.parse.quote(expr)}"
    with urllib.request.urlopen(url, timeout=5) as response:
        body = json.load(response)
    result = body["data"]["result"]
    return float(result[0]["value"][1]) if result else None


async def test_scripted_calls_give_exact_metrics(lab: Lab, ami: AmiClient,
                                                 tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path}/scripted.db"
    # AMI alone (no queue_log, no MQTT) with a read-only AMI user, as at a site that runs none
    # of our scripts. Every
    # series then starts at 0 on its first scrape, which keeps rate()'s extrapolation equal
    # for numerator and denominator: the ratio is exact.
    run = MonitorRun(lab, db_url, pbx=PBX, mqtt=False, queue_log=False,
                     read_only_ami=True).start()
    try:
        for phone in ("r1", "r2", "r3"):
            await set_phone(ami, phone, answer_after=999, talk_for=0.5)
        assert (await ami.action("QueueReset", Queue="frontdesk")).succeeded
        base = run.samples()
        # rate() extrapolates each series from its first sample; with both series first
        # scraped at 0, numerator and denominator extrapolate alike and the ratio is exact.
        offered_series = f'callsla_calls_offered_total{{pbx="{PBX}",queue="frontdesk"}}'
        await asyncio.to_thread(wait_for, lambda: prometheus(lab, offered_series) == 0, 20,
                                "Prometheus to scrape the new series at 0")

        def delta(name: str, **labels: str) -> float:
            want = {"pbx": PBX, "queue": "frontdesk", **labels}
            now = run.value(name, **want)
            was = sum(v for (n, ls), v in base.items() if n == name and set(want.items()) <= ls)
            return now - was

        with utc_window() as window:
            async with QueueWatcher(ami) as watcher:
                for n, (answer_after, patience) in enumerate(SCRIPT):
                    await call_and_wait(ami, watcher, answer_after=answer_after,
                                        patience=patience, caller_id=f"03555000{n:02d}")
        wait_for(lambda: delta("callsla_calls_answered_total")
                 + delta("callsla_calls_missed_total") == len(SCRIPT), 15, "all legs settled")

        assert delta("callsla_calls_offered_total") == 6
        assert delta("callsla_calls_answered_total") == 4
        assert delta("callsla_calls_missed_total", cause="abandoned") == 2
        assert delta("callsla_calls_missed_total") == 2
        for le, count in EXPECTED_BUCKETS.items():
            assert delta("callsla_answer_wait_seconds_bucket", le=le) == count, le
        waits = delta("callsla_answer_wait_seconds_sum")
        assert 29.5 <= waits < 29.5 + 4 * 1.2
        assert delta("callsla_transfers_returned_total") == 0
        assert run.value("callsla_callers_waiting", pbx=PBX) == 0

        # Asterisk's own service level for the same calls: answered within 10 s ÷ answered.
        params = await queue_params(ami)
        answered_in_10 = delta("callsla_answer_wait_seconds_bucket", le="10.0")
        mine = round(100 * answered_in_10 / delta("callsla_calls_answered_total"), 1)
        assert float(params["servicelevelperf"]) == mine == 75.0
        assert int(params["abandoned"]) == 2

        with open_store(db_url) as store:
            legs = list(store.legs_between(window[0], window[1], pbx=PBX))
        from_store = answer_rate(legs, within_seconds=10)
        assert (from_store.offered, from_store.answered_within) == (6, 3)
        assert sum(leg.answer_wait_seconds or 0 for leg in legs) == pytest.approx(waits)

        # The docs/architecture.md formula on the real Prometheus, over a window of all the calls.
        expr = (f'sum(rate(callsla_answer_wait_seconds_bucket{{pbx="{PBX}",le="10.0"}}[1h]))'
                f' / sum(rate(callsla_calls_offered_total{{pbx="{PBX}"}}[1h]))')
        offered_now = run.value("callsla_calls_offered_total", pbx=PBX)
        wait_for(lambda: prometheus(lab, f'sum(callsla_calls_offered_total{{pbx="{PBX}"}})')
                 == offered_now, 20, "Prometheus to scrape the final counts")
        scraped = prometheus(lab, expr)
        assert scraped == pytest.approx(from_store.rate, rel=1e-9)
    finally:
        run.stop()


async def queue_params(ami: AmiClient) -> dict[str, str]:
    reply = await ami.action("QueueStatus", Queue="frontdesk")
    assert reply.succeeded
    async def first_params() -> dict[str, str]:
        async for event in ami.events():
            if event.event == "QueueParams" and event.get("queue") == "frontdesk":
                return dict(event)
        raise AssertionError("AMI closed")
    return await asyncio.wait_for(first_params(), 10)


