"""The traffic simulator drives the real PBX: every call it places reaches the front desk."""

from __future__ import annotations

import asyncio

from lab.traffic import DayProfile, TrafficSimulator
from monitor.ami import AmiClient


async def test_simulated_day_reaches_the_front_desk(ami: AmiClient) -> None:
    profile = DayProfile(day_seconds=12, calls_per_minute=40, patience_mean_seconds=3,
                         answer_median_seconds=1, talk_mean_seconds=1)
    joins: list[str] = []

    async def count_joins() -> None:
        async for event in ami.events():
            if event.event == "QueueCallerJoin":
                joins.append(event["uniqueid"])

    counter = asyncio.create_task(count_joins())
    stats = await TrafficSimulator(ami, profile, seed=3).run()
    await asyncio.sleep(3)
    counter.cancel()
    assert stats.failed == 0
    assert stats.placed >= 5
    assert len(set(joins)) == stats.placed
