"""A call that rings an extension without a queue is a measured direct leg (AMI alone).

Callers arrive over the lab's plain SIP gateway (`direct-trunk`), whose dialplan rings the
dialled SIP phone with a bare `Dial(PJSIP/<ext>,4)`: no call-flow script, as on a PBX that
runs none of ours; the officers' phones are SIPp user agents.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

from lab import Lab
from lab.sip.phones import sip_phones
from lab.sip.scenarios import Answer, NoAnswer
from monitor.core.records import LegKind, MissedCause, Outcome
from monitor.store import open_store
from tests.support.monitor_run import MonitorRun, wait_for

DIRECT_TRUNK = "direct-trunk"  # lab/asterisk_local/pjsip.conf


async def test_direct_calls_answered_and_unanswered(lab: Lab, tmp_path: Path) -> None:
    pbx = f"lab-direct-{uuid.uuid4().hex[:6]}"
    db_url = f"sqlite:///{tmp_path}/direct.db"
    run = MonitorRun(lab, db_url, pbx=pbx, mqtt=False, queue_log=False)
    await asyncio.to_thread(run.start)
    try:
        labels = {"pbx": pbx, "queue": ""}
        async with sip_phones(lab) as phones:
            # finance: answered after 2.5 s, inside the bare Dial's 4 s with room for a slow
            # machine (3 s left 1 s: one CI run on the loaded 2 cores failed that call).
            phones.officer("2101", Answer(after=2.5, talk=5))
            phones.officer("2201", NoAnswer())  # licensing: rings out after 4 s
            answered = await phones.call_in("0388800001", dialled="2101", patience=1,
                                            trunk=DIRECT_TRUNK)
            rang_out = await phones.call_in("0388800002", dialled="2201", trunk=DIRECT_TRUNK,
                                            may_ring_out=True)
            await answered.finished(20)
            await rang_out.finished(20)
            await phones.finished(10)
        await asyncio.to_thread(wait_for, lambda: run.value(
            "callsla_calls_answered_total", **labels) + run.value(
            "callsla_calls_missed_total", **labels) == 2, 20, "both direct legs settled")
        assert run.value("callsla_calls_offered_total", **labels) == 2
        assert run.value("callsla_calls_offered_total", department="finance", **labels) == 1
        assert run.value("callsla_calls_offered_total", department="licensing", **labels) == 1
        assert run.value("callsla_answer_wait_seconds_bucket", le="2.0", **labels) == 0
        assert run.value("callsla_answer_wait_seconds_bucket", le="5.0", **labels) == 1
        assert run.value("callsla_calls_missed_total", cause="timeout", **labels) == 1
        assert run.value("callsla_calls_missed_total", cause="timeout", department="licensing",
                         **labels) == 1
        with open_store(db_url) as store:
            assert store.open_legs(pbx) == []
            found = list(store.legs_between(datetime(2000, 1, 1, tzinfo=UTC),
                                            datetime(9999, 1, 1, tzinfo=UTC), pbx=pbx))
        by_officer = {leg.officer: leg for leg in found}
        assert set(by_officer) == {"2101", "2201"}
        assert all(leg.kind is LegKind.DIRECT for leg in found)
        assert by_officer["2101"].outcome is Outcome.ANSWERED
        assert by_officer["2201"].missed_cause is MissedCause.TIMEOUT
    finally:
        run.stop()
