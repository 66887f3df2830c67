"""A short compressed day from the demo's simulator, through the real PBX and monitor: every
planned caller is offered once and ends answered or missed, and those who planned to give up
before a receptionist would answer are counted as missed."""

from __future__ import annotations

from lab import Lab
from lab.simulator import plan_day, run_day
from tests.lab.traffic import lab_ami, set_receptionists, wait_for

PBX = 'pbx="lab"'


async def test_a_compressed_day_reaches_the_monitor(lab: Lab, monitor_process: str) -> None:
    plan = plan_day(calls_per_day=10, day_seconds=30, seed=1)
    assert any(call.abandons for call in plan), "this seed has callers who give up"
    async with lab_ami(lab) as ami:
        assert await run_day(ami, plan) == len(plan)
        settled = (f"sum(callsla_calls_answered_total{{{PBX}}})"
                   f" + sum(callsla_calls_missed_total{{{PBX}}})")
        wait_for(lab, settled, len(plan), timeout=180)
        await set_receptionists(ami, answer_after=2, talk_for=5)
    assert wait_for(lab, f"sum(callsla_calls_offered_total{{{PBX}}})", len(plan)) == len(plan)
    planned_abandons = sum(call.abandons for call in plan)
    wait_for(lab, f'sum(callsla_calls_missed_total{{{PBX},cause="abandoned"}})', planned_abandons)
