"""What callers hear (charter T-e and T-f), from the RTP their SIP user agents received: the
short audio test of `make test`, one run of about 95 s.

Three SIPp callers at once, on the lab's real Asterisk with SIP phones:
- an English caller (line 1002) whom receptionist 101 blind-transfers (REFER) to free officer
  2102: the officer's name, department and extension are heard, in English, and over before
  2102's phone gets its INVITE;
- a Malay caller on 2101's direct line while 2101 is on another call: the announcement, then a
  status message every 20 s; 2101 comes free 3 s into the fourth, which stops there: nothing is
  heard after 2101's phone gets the INVITE;
- a Malay caller (line 1001) waiting at the front desk while every receptionist is busy
  (paused): app_queue's status message every 20 s in Malay, until receptionist 102 is ready and
  its phone rings.

tests/integration/agi_scripts/test_flows.py (three callers in one busy line, messages cut in
the middle, the other flows) and tests/integration/monitor/ingest/test_queue_announcements.py
(a phone ringing unanswered, what the monitor measured) check more of the same, in longer runs.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from lab import Lab
from lab.sip.heard import PromptHearing
from lab.sip.phones import Caller, SipPhones, sip_phones
from lab.sip.scenarios import Answer, BlindTransfer
from tests.support.caller_audio import CallerAudio, prompt_of
from tests.support.callflow_harness import (
    CallFlowRig,
    ami_time,
    end_held_call,
    hold_phone_busy,
    is_exec,
    start_rig,
)

STANDARD, TOLERANCE = 20.0, 0.5  # T-f: a status message every 20 s, +- 0.5 s
MESSAGES = 4  # each waiting caller hears this many (the officer's caller: the 4th cut short)
LINES = {"1001": "ms", "1002": "en"}  # LINE_LANGUAGE_<line>, set for this module
TRANSFERRED, WAITING, AT_DESK = "0391000001", "0391000002", "0391000003"
BUSY_OFFICER = "PJSIP/2101"
FRONT_DESK = ("101", "102")
FRONT_DESK_STATUS = "frontdesk_status"  # asterisk_conf/queues.conf: periodic-announce


def announcement(extension: str) -> tuple[str, ...]:
    """The prompts a caller hears before `extension`'s phone rings: name, department (both
    lab officers are in finance), "extension", the digits."""
    return (f"officer-{extension}", "dept-finance", "extension",
            *(f"num-{d}" for d in extension))


@dataclass
class Run:
    rig: CallFlowRig
    phones: SipPhones
    audio: CallerAudio  # the officers' prompts (the scripts play them)
    desk: CallerAudio  # the front desk's status message (app_queue plays it)
    callers: dict[str, Caller] = field(default_factory=dict)
    freed_at: float = 0.0  # AMI time 2101's other call was hung up


async def _pause(rig: CallFlowRig, extension: str, *, paused: bool = True) -> None:
    """A receptionist not ready (AMI QueuePause): the queue rings nobody else's phone."""
    reply = await rig.ami.action("QueuePause", Queue="frontdesk", Interface=f"PJSIP/{extension}",
                                 Paused="true" if paused else "false", Reason="lab: busy")
    assert reply.succeeded, reply


async def _transferred(run: Run) -> None:
    """101 answers the English caller and REFERs them to 2102, then is busy (paused)."""
    rig = run.rig
    run.callers[TRANSFERRED] = await run.phones.call_in(TRANSFERRED, dialled="1002",
                                                        patience=30)
    await rig.log.wait_for(lambda e: e.event == "AgentConnect"
                           and e.get("calleridnum") == TRANSFERRED, 20, "101 answered")
    await _pause(rig, "101")
    await rig.log.wait_for(lambda e: e.event == "BlindTransfer"
                           and e.get("transfereecalleridnum") == TRANSFERRED, 20, "the REFER")


async def _waiting_for_busy_officer(run: Run) -> None:
    """2101 on another call (one no flow put through, held until hung up here) while the Malay
    caller waits on 2101's line; it ends 3 s into the caller's 4th status message."""
    rig = run.rig
    await hold_phone_busy(rig, BUSY_OFFICER)
    run.callers[WAITING] = await run.phones.call_in(WAITING, dialled="2101",
                                                    patience=MESSAGES * STANDARD + 40)
    await rig.log.wait_count(lambda e: is_exec(e, WAITING, "/ms/position_is"), MESSAGES,
                             MESSAGES * STANDARD + 30, f"{MESSAGES} status messages")
    await asyncio.sleep(3.0)  # into the message: it is cut when 2101 comes free
    run.freed_at = await end_held_call(rig, BUSY_OFFICER)


async def _waiting_at_front_desk(run: Run) -> None:
    """The Malay caller waits at the desk, 101 and 102 not ready; 102 is ready again once the
    caller's 4th message has begun (app_queue rings a member only between messages)."""
    rig = run.rig
    await rig.log.wait_for(lambda e: e.event == "AgentConnect"
                           and e.get("calleridnum") == TRANSFERRED, 30, "101 busy")
    run.callers[AT_DESK] = await run.phones.call_in(AT_DESK, dialled="1001",
                                                    patience=MESSAGES * STANDARD + 40)
    join = await rig.log.wait_for(lambda e: e.event == "QueueCallerJoin"
                                  and e.get("calleridnum") == AT_DESK, 20, "queued")
    # Asterisk's clock is the host's (a chroot on it): sleep until 1 s into the 4th message.
    await asyncio.sleep(max(0.0, ami_time(join) + MESSAGES * STANDARD + 1.0 - time.time()))
    await _pause(rig, "102", paused=False)


@pytest.fixture(scope="module")
async def run(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Run]:
    assert lab.pbx is not None
    rig = await start_rig(lab, tmp_path_factory.mktemp("callers-hear"))
    try:
        for line, language in LINES.items():
            await rig.setvar(f"LINE_LANGUAGE_{line}", language)
        async with sip_phones(lab) as phones:
            await phones.use_front_desk(FRONT_DESK, strategy="rrmemory")  # officers: PJSIP/
            sounds = lab.pbx.host_path(f"{lab.pbx.inst}/sounds/callsla")
            the_run = Run(rig, phones, CallerAudio(rig.log.events,
                                                   PromptHearing(lab.pbx.prompts_dir)),
                          CallerAudio(rig.log.events, PromptHearing(sounds)))
            await _pause(rig, "102")  # 101 takes the first caller
            staff = {
                "101": phones.receptionist("101", BlindTransfer(to="2102", after=0.5, talk=1)),
                "102": phones.receptionist("102", Answer(after=0.5, talk=1)),
                "2101": phones.officer("2101", Answer(after=0.5, wait_for_bye=True),
                                       Answer(after=0.5, talk=2)),
                "2102": phones.officer("2102", Answer(after=1, talk=1)),
            }
            async with asyncio.timeout(MESSAGES * STANDARD + 60):
                await asyncio.gather(_transferred(the_run), _waiting_for_busy_officer(the_run),
                                     _waiting_at_front_desk(the_run))
                await phones.finished(40)  # every phone and caller did as scripted
            for audio in (the_run.audio, the_run.desk):
                audio.heard = {who: caller.heard() for who, caller in the_run.callers.items()}
                audio.rang = {extension: phone.invites() for extension, phone in staff.items()}
            yield the_run
    finally:
        for line in LINES:
            await rig.setvar(f"LINE_LANGUAGE_{line}", "")
        await rig.close()


def _intervals(starts: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(starts)]


def _message_seconds(audio: CallerAudio, caller: str, n: int) -> float:
    """How long `caller`'s `n`-th status message (from 1) lasted as played: from its first
    prompt's start to its last prompt's end, from the scripts' STREAM FILE commands."""
    status = [ami_time(e) for e in audio.commands(caller, "/ms/position_is")]
    prompts = [(ami_time(e), audio.hearing.seconds(prompt_of(e["command"])))
               for e in audio.commands(caller, "STREAM FILE")
               if status[n - 1] <= ami_time(e) < status[n]]
    return max(at + seconds for at, seconds in prompts) - status[n - 1]


def test_the_officer_is_announced_in_the_callers_language_before_the_phone_rings(
        run: Run) -> None:
    transfer = next(e for e in run.rig.log.events if e.event == "BlindTransfer"
                    and e.get("transfereecalleridnum") == TRANSFERRED)
    assert transfer["transfererchannel"].startswith("PJSIP/101-"), "101's phone sent the REFER"
    audio = run.audio
    rang = audio.announced_before_ringing(TRANSFERRED, "2102", announcement("2102"), "en")
    dial = next(e for e in run.rig.log.events if e.event == "DialBegin"
                and e.get("calleridnum") == TRANSFERRED
                and e.get("destchannel", "").startswith("PJSIP/2102-"))
    print(f"{TRANSFERRED}: AMI DialBegin -> 2102's phone got the INVITE "
          f"{rang - ami_time(dial):.3f} s")
    assert audio.heard_at(TRANSFERRED, "ms/officer-2102") == [], "not in Malay"
    audio.announced_before_ringing(WAITING, "2101", announcement("2101"), "ms")
    assert audio.heard_at(WAITING, "en/officer-2101") == [], "not in English"
    for caller in (TRANSFERRED, WAITING):
        lags = audio.heard_as_played(caller, until=audio.rang_at(
            "2102" if caller == TRANSFERRED else "2101", caller))
        print(f"{caller}: {len(lags)} prompts heard as played, {max(lags):.3f} s late at most")
        assert len(lags) >= len(announcement("2101"))


def test_a_caller_for_a_busy_officer_hears_a_message_every_20_s_until_the_phone_rings(
        run: Run) -> None:
    audio = run.audio
    rang = audio.rang_at("2101", WAITING)
    messages = audio.message_starts(WAITING, "ms/position_is", until=rang)
    starts = [t for t, _ in messages]
    intervals = _intervals(starts)
    print(f"{WAITING}: {len(starts)} messages, intervals {[f'{i:.3f}' for i in intervals]}; "
          f"the last began {rang - starts[-1]:.3f} s before 2101's phone got the INVITE, "
          f"{messages[-1][1]:.3f} s of it played; 2101 free -> INVITE {rang - run.freed_at:.3f} s")
    assert len(starts) == MESSAGES
    assert all(abs(i - STANDARD) <= TOLERANCE for i in intervals), intervals
    whole = _message_seconds(audio, WAITING, MESSAGES - 1)
    print(f"{WAITING}: a whole message lasts {whole:.3f} s")
    assert starts[-1] < rang < starts[-1] + whole, "the phone rang in the 4th: it was cut"
    assert 0 <= rang - run.freed_at <= 1.0, "rung within a second of 2101 coming free"
    assert audio.heard_after(WAITING, rang) == {}, "nothing of the flow after the ring"
    assert audio.heard_at(WAITING, "en/position_is") == [], "not in English"


def test_a_caller_at_the_front_desk_hears_a_message_every_20_s_until_a_phone_rings(
        run: Run) -> None:
    desk = run.desk
    rang = desk.rang_at("102", AT_DESK)
    starts = desk.heard_at(AT_DESK, f"ms/{FRONT_DESK_STATUS}")
    intervals = _intervals(starts)
    print(f"{AT_DESK}: {len(starts)} messages, intervals {[f'{i:.3f}' for i in intervals]}; "
          f"the last began {rang - starts[-1]:.3f} s before 102's phone got the INVITE")
    assert len(starts) == MESSAGES, starts
    assert all(abs(i - STANDARD) <= TOLERANCE for i in intervals), intervals
    assert starts[-1] < rang <= starts[-1] + STANDARD + TOLERANCE
    assert desk.heard_at(AT_DESK, f"en/{FRONT_DESK_STATUS}") == [], "not in English"
    assert not [t for t in starts if t > rang], "none after the ring"
    assert not desk.openings(AT_DESK, f"ms/{FRONT_DESK_STATUS}", after=rang), (
        "no message began after the ring, not even cut short")
