"""The front desk rings a free receptionist for every waiting caller (queues.conf autofill):
three callers and three free receptionists give three ringing phones at once."""

from __future__ import annotations

import asyncio

from lab import Lab
from lab.calls import place_inbound_call
from tests.support.lab_traffic import lab_ami, set_receptionists


async def test_three_callers_ring_three_free_receptionists_at_once(lab: Lab) -> None:
    async with lab_ami(lab) as ami:
        await set_receptionists(ami, answer_after=2, talk_for=1)
        try:
            for n in range(3):
                await place_inbound_call(ami, caller_id=f"0390000{n}", patience=30,
                                         answer_after=8)
            ringing = 0
            for _ in range(40):  # until the queue has rung everyone it will
                await asyncio.sleep(0.25)
                channels = await ami.command("core show channels")
                ringing = max(ringing, sum(" Ring " in line and "lab-phones" in line
                                           for line in channels.splitlines()))
            assert ringing == 3
        finally:
            assert lab.pbx is not None
            lab.pbx.cli("channel request hangup all")
