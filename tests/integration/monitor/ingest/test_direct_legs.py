"""A call that rings an extension without a queue is a measured direct leg (AMI alone)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

from lab import Lab
from lab.calls import place_inbound_call
from monitor.ami import AmiClient
from monitor.core.records import LegKind, MissedCause, Outcome
from monitor.store import open_store
from tests.support.monitor_run import MonitorRun, wait_for


async def test_direct_calls_answered_and_unanswered(lab: Lab, ami: AmiClient,
                                                    tmp_path: Path) -> None:
    pbx = f"lab-direct-{uuid.uuid4().hex[:6]}"
    db_url = f"sqlite:///{tmp_path}/direct.db"
    run = MonitorRun(lab, db_url, pbx=pbx, mqtt=False, queue_log=False)
    await asyncio.to_thread(run.start)
    try:
        labels = {"pbx": pbx, "queue": "", "department": ""}
        await place_inbound_call(ami, dialled="r2", context="lab-direct", answer_after=3,
                                 patience=1, caller_id="0388800001")
        await place_inbound_call(ami, dialled="r3", context="lab-direct", answer_after=999,
                                 caller_id="0388800002")
        await asyncio.to_thread(wait_for, lambda: run.value(
            "callsla_calls_answered_total", **labels) + run.value(
            "callsla_calls_missed_total", **labels) == 2, 20, "both direct legs settled")
        assert run.value("callsla_calls_offered_total", **labels) == 2
        assert run.value("callsla_answer_wait_seconds_bucket", le="2.0", **labels) == 0
        assert run.value("callsla_answer_wait_seconds_bucket", le="5.0", **labels) == 1
        assert run.value("callsla_calls_missed_total", cause="timeout", **labels) == 1
        with open_store(db_url) as store:
            assert store.open_legs(pbx) == []
            found = list(store.legs_between(datetime(2000, 1, 1, tzinfo=UTC),
                                            datetime(9999, 1, 1, tzinfo=UTC), pbx=pbx))
        by_officer = {leg.officer: leg for leg in found}
        assert set(by_officer) == {"r2", "r3"}
        assert all(leg.kind is LegKind.DIRECT for leg in found)
        assert by_officer["r2"].outcome is Outcome.ANSWERED
        assert by_officer["r3"].missed_cause is MissedCause.TIMEOUT
    finally:
        run.stop()
