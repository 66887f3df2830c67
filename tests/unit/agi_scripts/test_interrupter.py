"""The prompt interrupter: it asks AMI about the officer's device only for the caller who may
take the officer, and stops that caller's prompt once the device is free."""

from __future__ import annotations

import asyncio

from agi_scripts.interrupter import PromptInterrupter
from monitor.ami import AmiMessage


class CountingAmi:
    """What the interrupter needs of AMI; the device frees after `busy_polls` Getvars."""

    def __init__(self, busy_polls: int) -> None:
        self.busy_polls = busy_polls
        self.actions: list[str] = []

    @property
    def connected(self) -> bool:
        return True

    async def action(self, name: str, *, timeout: float = 5.0, **fields: str) -> AmiMessage:
        self.actions.append(name)
        getvars = self.actions.count("Getvar")
        value = "INUSE" if getvars <= self.busy_polls else "NOT_INUSE"
        return AmiMessage({"response": "Success", "value": value})

    async def close(self) -> None:
        return None


async def test_a_caller_who_may_not_take_the_officer_costs_no_ami_action() -> None:
    ami = CountingAmi(busy_polls=0)
    interrupter = PromptInterrupter(ami, poll_seconds=0.01)
    async with interrupter.watching("PJSIP/trunk-1", "Custom:o2101", lambda: False):
        await asyncio.sleep(0.2)  # a prompt plays; the caller is second in line
    assert ami.actions == []


async def test_the_first_caller_s_prompt_stops_when_the_officer_frees() -> None:
    ami = CountingAmi(busy_polls=3)
    interrupter = PromptInterrupter(ami, poll_seconds=0.01)
    async with interrupter.watching("PJSIP/trunk-1", "Custom:o2101", lambda: True):
        await asyncio.sleep(0.3)
    assert ami.actions == ["Getvar"] * 4 + ["ControlPlayback"]
