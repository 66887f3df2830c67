"""The front desk rings a free receptionist for every waiting caller (queues.conf autofill):
three SIP callers over the trunk and three free SIP receptionists give three ringing phones at
once, each caller answered by a different receptionist."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from lab import Lab
from lab.sip.phones import sip_phones
from lab.sip.scenarios import Answer
from monitor.ami import AmiClient, AmiMessage
from tests.support.callflow_harness import AmiLog

RECEPTIONISTS = ("101", "102", "103")
CALLERS = tuple(f"0390000{n}" for n in range(3))


def _is_receptionist(channel: str) -> bool:
    return channel.startswith(tuple(f"PJSIP/{ext}-" for ext in RECEPTIONISTS))


def _answered(caller: str) -> Callable[[AmiMessage], bool]:
    return lambda e: e.event == "AgentConnect" and e.get("calleridnum") == caller


async def test_three_callers_ring_three_free_receptionists_at_once(lab: Lab,
                                                                   ami: AmiClient) -> None:
    log = AmiLog(ami)
    watching = asyncio.create_task(log.run())
    try:
        async with sip_phones(lab) as phones:
            await phones.use_front_desk(RECEPTIONISTS, strategy="rrmemory")  # the site's
            for ext in RECEPTIONISTS:  # each rings 8 s: long enough to see all three at once
                phones.receptionist(ext, Answer(after=8, talk=1))
            callers = [await phones.call_in(number, patience=30) for number in CALLERS]
            ringing = 0
            for _ in range(40):  # until the queue has rung everyone it will
                await asyncio.sleep(0.25)
                channels = await ami.command("core show channels")
                ringing = max(ringing, sum(_is_receptionist(line) and " Ringing " in line
                                           for line in channels.splitlines()))
            assert ringing == 3
            connects = [await log.wait_for(_answered(caller), 20, f"{caller} answered")
                        for caller in CALLERS]
            for caller in callers:
                await caller.finished(40)
            await phones.finished(20)
    finally:
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)
    assert sorted(c["interface"] for c in connects) == [f"PJSIP/{e}" for e in RECEPTIONISTS]
    # At once: every receptionist's phone rang before the first of them answered.
    events = log.events
    rang = [i for i, e in enumerate(events) if e.event == "Newstate"
            and _is_receptionist(e.get("channel", "")) and e.get("channelstatedesc") == "Ringing"]
    answered = [i for i, e in enumerate(events) if e.event == "Newstate"
                and _is_receptionist(e.get("channel", "")) and e.get("channelstatedesc") == "Up"]
    assert len(rang) == 3, [events[i] for i in rang]
    assert max(rang) < min(answered)
    waits = sorted(int(c["holdtime"]) for c in connects)
    print(f"receptionists ringing at once: {ringing}; hold times {waits} s")
    assert waits[-1] - waits[0] <= 2, waits  # all three rang from their first seconds
