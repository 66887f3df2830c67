"""The traffic simulator drives the real PBX: every call it places reaches the front desk, as a
SIP caller on the trunk answered by the SIP receptionists' phones."""

from __future__ import annotations

import asyncio

from lab import Lab
from lab.sip.phones import sip_phones
from lab.traffic import DayProfile, TrafficSimulator
from monitor.ami import AmiClient


async def test_simulated_day_reaches_the_front_desk(lab: Lab, ami: AmiClient) -> None:
    profile = DayProfile(day_seconds=12, calls_per_minute=40, patience_mean_seconds=3,
                         answer_median_seconds=1, talk_mean_seconds=1)
    joins: list[str] = []
    answered_by: list[str] = []

    async def count_joins() -> None:
        async for event in ami.events():
            if event.event == "QueueCallerJoin":
                joins.append(event["uniqueid"])
                assert event["channel"].startswith("PJSIP/trunk-"), event
            elif event.event == "AgentConnect":
                answered_by.append(event["interface"])

    counter = asyncio.create_task(count_joins())
    async with sip_phones(lab) as phones:
        stats = await TrafficSimulator(ami, phones, profile, seed=3).run()
        await asyncio.sleep(3)
    counter.cancel()
    assert stats.failed == 0
    assert stats.placed >= 5
    assert len(set(joins)) == stats.placed
    assert answered_by, "no receptionist answered"
    assert set(answered_by) <= {"PJSIP/101", "PJSIP/102", "PJSIP/103"}
