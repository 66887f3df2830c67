"""The call flows on the lab's real Asterisk and Mosquitto (issue 3, "What it must show"), with
SIP phones (issue 9): callers are SIPp user agents on the lab's trunk, receptionists and officers
PJSIP phones.

One module-scoped run places every scenario's calls at once (the slow one, a caller hearing
five status messages, takes about 100 s) and stops Mosquitto in the middle of it; the tests
then check each promise on what Asterisk's AMI and the MQTT subscriber saw, and what each
caller heard: the prompts found, and timed, in the RTP the PBX sent them (lab/sip/heard.py).

Each scenario has phones of its own (2101 for the busy officer, 2102 for the transfers that
are answered, 2201 for the one that is not, 2202 and 2301 take messages), except the front
desk (101, 102), which the blind transfer uses first and the returned caller after.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import re
import statistics
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from lab import Lab
from lab.sip.heard import PromptHearing
from lab.sip.phones import Caller, Phone, SipPhones, sip_phones
from lab.sip.scenarios import Answer, BlindTransfer, Dtmf, NoAnswer
from monitor.ami import AmiMessage
from monitor.ami.officer_status import set_officer_status
from monitor.cli.main import main
from monitor.core.directory import OfficerStatus
from monitor.core.events import parse_event
from monitor.core.metrics import create_call_metrics
from monitor.core.records import CallbackStatus
from monitor.core.settings import parse_endpoint
from monitor.ingest.flow_recorder import record_flow_event
from monitor.ingest.mqtt_feed import MqttFeed
from monitor.ingest.recorder import Recorder
from monitor.store import open_store
from tests.support.caller_audio import AMI_LAG, HEARD_WITHIN, CallerAudio, prompt_of
from tests.support.callflow_harness import (
    CallFlowRig,
    ami_time,
    device_state,
    drain,
    end_held_call,
    hold_phone_busy,
    is_exec,
    start_rig,
)

BUSY_CALLERS = ("0310000001", "0310000002", "0310000003")
TRANSFERRED = "0320000001"
UNANSWERED = "0330000001"
NEW_AT_DESK = "0330000002"
OUT_OF_OFFICE = "0340000001"
KEYED = "0360000001"
CHOOSER = "0370000001"
HOSTILE_NUMBER = '0312"|;$x'
HOSTILE_NAME = '"x\nEXEC Dial(Local/o2101@lab-phones)'
HOSTILE_GATEWAY = "trunk-hostile"  # lab/asterisk_local/pjsip.conf: its calls enter [lab-hostile]
STATUS_MARK = "/position_is"
STANDARD, TOLERANCE = 20.0, 0.5  # T-f: a status message every 20 s, +- 0.5 s
FRONT_DESK = ("101", "102")
BUSY_OFFICER = "PJSIP/2101"
# A direct call's line has no language of its own: DEFAULT_LANGUAGE (ms) in extensions.conf.
DIRECT = "ms"
# What a caller hears before 2102's phone rings (T-e): name, department, "extension", digits.
ANNOUNCEMENT_2102 = ("officer-2102", "dept-finance", "extension", "num-2", "num-1", "num-0",
                     "num-2")


@dataclass
class Run:
    rig: CallFlowRig
    phones: SipPhones
    audio: CallerAudio  # what each caller heard and when each phone rang, once all are over
    callers: dict[str, Caller] = field(default_factory=dict)  # by number (or a name)
    freed_at: float = 0.0  # AMI time the busy officer came free
    notes: dict[str, object] = field(default_factory=dict)
    transferred: asyncio.Event = field(default_factory=asyncio.Event)


def _dial_begin_of(caller: str) -> Callable[[AmiMessage], bool]:
    return lambda e: e.event == "DialBegin" and e.get("calleridnum") == caller


def _hangup_of(caller: str) -> Callable[[AmiMessage], bool]:
    """The caller's own channel (the trunk's) hung up."""
    return lambda e: (e.event == "Hangup" and e.get("calleridnum") == caller
                      and e.get("channel", "").startswith("PJSIP/trunk-"))


async def _pause_front_desk(run: Run, *receptionists: str, paused: bool = True) -> None:
    """Receptionists not ready (AMI QueuePause): the queue rings none of them, callers wait."""
    for extension in receptionists or FRONT_DESK:
        reply = await run.rig.ami.action(
            "QueuePause", Queue="frontdesk", Interface=f"PJSIP/{extension}",
            Paused="true" if paused else "false", Reason="lab: on another call")
        assert reply.succeeded, reply


def _start_phones(run: Run) -> dict[str, Phone]:
    """Every phone the scenarios ring, each with the calls it will take, in order."""
    phones = run.phones
    # 101 takes the caller it blind-transfers (102 is paused then), later one of the two
    # callers waiting at the desk (the returned one and the new one); 102 the other.
    return {
        "101": phones.receptionist("101", BlindTransfer(to="2102", after=0.5, talk=1),
                                   Answer(after=0.5, talk=1)),
        "102": phones.receptionist("102", Answer(after=0.5, talk=1)),
        # 2101: first the call that keeps it busy, then the three busy-line callers in turn.
        "2101": phones.officer("2101", Answer(after=0.5, wait_for_bye=True),
                               *(Answer(after=0.5, talk=2) for _ in BUSY_CALLERS)),
        # 2102: the blind-transferred caller, the keyed one and the hostile one, in any order.
        "2102": phones.officer("2102", Answer(after=1, talk=2), calls=3),
        "2201": phones.officer("2201", NoAnswer()),
    }


async def _busy_officer(rig: CallFlowRig, run: Run) -> None:
    """T-f: three callers wait for 2101, who is on another call; it ends after caller 1's 5th
    message."""
    await hold_phone_busy(rig, BUSY_OFFICER)
    for caller in BUSY_CALLERS:
        run.callers[caller] = await run.phones.call_in(caller, dialled="2101", patience=200)
        await asyncio.sleep(1.0)
    first = BUSY_CALLERS[0]
    await rig.log.wait_count(lambda e: is_exec(e, first, STATUS_MARK), 5, 150, "5 messages")
    await rig.log.wait_count(lambda e: is_exec(e, first, "SET MUSIC ON"), 5, 30,
                             "end of the 5th message")
    await asyncio.sleep(1.0)  # between messages: music on hold
    run.freed_at = await end_held_call(rig, BUSY_OFFICER)  # the call ends
    for caller in BUSY_CALLERS:
        await rig.log.wait_for(_dial_begin_of(caller), 60, f"{caller} rung")
    await rig.log.wait_for(_hangup_of(BUSY_CALLERS[-1]), 30, "last call over")


async def _blind_transfer(rig: CallFlowRig, run: Run) -> None:
    """T-e: receptionist 101 blind-transfers (REFER) the caller to 2102; the caller hears who
    first."""
    run.callers[TRANSFERRED] = await run.phones.call_in(TRANSFERRED, patience=60)
    transfer = await rig.log.wait_for(
        lambda e: e.event == "BlindTransfer" and e.get("transfereecalleridnum") == TRANSFERRED,
        20, "the receptionist's REFER")
    run.notes["blind_transfer"] = dict(transfer)
    run.transferred.set()
    await rig.log.wait_for(lambda e: e.event == "DialEnd" and e.get("calleridnum") == TRANSFERRED,
                           60, "transfer rang the officer")


async def _unanswered_transfer(rig: CallFlowRig, run: Run) -> None:
    """T-g: 2201 never answers; the caller returns to the desk ahead of a new caller."""
    run.callers[UNANSWERED] = await run.phones.call_in(UNANSWERED, dialled="2201", patience=90)
    await run.transferred.wait()
    await asyncio.sleep(2)
    await _pause_front_desk(run)  # every receptionist busy: callers wait in the queue
    await rig.log.wait_for(lambda e: e.event == "DialBegin" and e.get("calleridnum") == UNANSWERED,
                           30, "officer 2201 rung")
    run.callers[NEW_AT_DESK] = await run.phones.call_in(NEW_AT_DESK, patience=90)
    await rig.log.wait_for(lambda e: e.event == "QueueCallerJoin"
                           and e.get("calleridnum") == NEW_AT_DESK, 10, "new caller queued")
    await rig.log.wait_for(lambda e: e.event == "QueueCallerJoin"
                           and e.get("calleridnum") == UNANSWERED, 40, "returned caller queued")
    await _pause_front_desk(run, paused=False)


async def _out_of_office(rig: CallFlowRig, run: Run) -> None:
    """T-h: 2301 is set out through AstDB (no reload); the caller leaves a message."""
    await set_officer_status(rig.ami, "2301", OfficerStatus.OUT)
    # A caller who talks from the start, so the message has sound in it.
    run.callers[OUT_OF_OFFICE] = await run.phones.call_in(
        OUT_OF_OFFICE, dialled="2301", patience=20, talks_from=0.0)
    await rig.log.wait_for(_hangup_of(OUT_OF_OFFICE), 40, "message caller hung up")
    await set_officer_status(rig.ami, "2301", OfficerStatus.IN)


async def _dial_by_extension(rig: CallFlowRig, run: Run) -> None:
    """The caller picks English (9), then keys extension 2102 on the dial-by-extension line."""
    run.callers[KEYED] = await run.phones.call_in(
        KEYED, dialled="1500", patience=30, keys=(Dtmf(1.0, "9#"), Dtmf(4.5, "2102")))
    await rig.log.wait_for(lambda e: is_exec(e, KEYED, "/transfer_to"), 40, "keyed transfer")


async def _caller_chooses_a_message(rig: CallFlowRig, run: Run) -> None:
    """A fourth caller for busy 2101 presses 1 during its first status message (22 s in: the
    message runs from about 16.5 to 27 s, after its position), leaves a message."""
    await rig.log.wait_for(lambda e: is_exec(e, BUSY_CALLERS[-1], "/officer_busy"), 60,
                           "the third caller in 2101's line")
    run.callers[CHOOSER] = await run.phones.call_in(
        CHOOSER, dialled="2101", patience=34, keys=(Dtmf(22.0, "1"),), talks_from=23.0)
    await rig.log.wait_for(_hangup_of(CHOOSER), 60, "chooser hung up")


async def _hostile(rig: CallFlowRig, run: Run) -> None:
    """A caller ID built to break AGI commands, through a message and a transfer."""
    run.callers["hostile-2202"] = await run.phones.call_in(
        "0312000001", dialled="2202", patience=18, trunk=HOSTILE_GATEWAY, talks_from=0.0)
    await asyncio.sleep(3)
    run.callers["hostile-2102"] = await run.phones.call_in(
        "0312000002", dialled="2102", patience=40, trunk=HOSTILE_GATEWAY)
    for caller in ("hostile-2202", "hostile-2102"):
        await run.callers[caller].finished(60)


async def _broker_outage(rig: CallFlowRig, run: Run) -> None:
    """Mosquitto down for 20 s while calls are in progress."""
    await asyncio.sleep(25)
    await asyncio.to_thread(rig.lab.mosquitto.stop)
    run.notes["broker_down_events"] = len(rig.outbox.put_ids)
    await asyncio.sleep(20)
    run.notes["events_while_down"] = len(rig.outbox.put_ids) - int(
        str(run.notes["broker_down_events"]))
    await asyncio.to_thread(rig.lab.mosquitto.start)


@pytest.fixture(scope="module")
async def run(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Run]:
    rig = await start_rig(lab, tmp_path_factory.mktemp("callflows"))
    try:
        async with sip_phones(lab) as phones:
            await phones.use_front_desk(FRONT_DESK, strategy="rrmemory")  # officers: PJSIP/
            assert lab.pbx is not None
            the_run = Run(rig, phones, CallerAudio(rig.log.events,
                                                   PromptHearing(lab.pbx.prompts_dir)))
            staff = _start_phones(the_run)
            await _pause_front_desk(the_run, "102")  # 101 takes the first caller
            async with asyncio.timeout(240):
                await asyncio.gather(*(scenario(rig, the_run) for scenario in (
                    _busy_officer, _blind_transfer, _unanswered_transfer, _out_of_office,
                    _hostile, _dial_by_extension, _caller_chooses_a_message, _broker_outage)))
                await phones.finished(60)  # every phone and caller did as scripted
            the_run.audio.heard = {who: caller.heard()
                                   for who, caller in the_run.callers.items()}
            the_run.audio.rang = {extension: phone.invites() for extension, phone in staff.items()}
            # From here on, callers only need to reach the front desk: nobody answers there.
            await _pause_front_desk(the_run)
            await drain(rig)
            yield the_run
    finally:
        await rig.close()


def _event(run: Run, kind: str, **match: object) -> list[dict[str, object]]:
    return [p for p in run.rig.mqtt.of_type(kind)
            if all(p.get(k) == v for k, v in match.items())]


def test_status_every_20_seconds_from_ami_timestamps(run: Run) -> None:
    starts = [ami_time(e) for e in run.audio.commands(BUSY_CALLERS[0], STATUS_MARK)]
    intervals = [b - a for a, b in itertools.pairwise(starts)]
    print(f"status intervals (AMI AGIExecStart): {[f'{i:.3f}' for i in intervals]}")
    assert len(intervals) >= 4
    assert all(abs(i - 20.0) <= 0.5 for i in intervals), intervals
    assert statistics.median(intervals) == pytest.approx(20.0, abs=0.05)
    events = _event(run, "status_announced", officer="2101")
    assert len(events) >= 3 * 4
    assert {e["department"] for e in events} == {"finance"}


def test_status_every_20_seconds_as_the_caller_hears_it(run: Run) -> None:
    """The same messages in the caller's RTP: each heard as the script starts it, 20 s apart."""
    commands = run.audio.commands(BUSY_CALLERS[0], STATUS_MARK)
    heard = run.audio.heard_at(BUSY_CALLERS[0], prompt_of(commands[0]["command"]))
    intervals = [b - a for a, b in itertools.pairwise(heard)]
    print(f"status intervals (caller's RTP): {[f'{i:.3f}' for i in intervals]}")
    assert len(heard) == len(commands)
    lags = [h - ami_time(c) for h, c in zip(heard, commands, strict=True)]
    print(f"AGIExecStart -> heard: {[f'{x:.3f}' for x in lags]} s")
    assert all(-AMI_LAG <= x <= HEARD_WITHIN for x in lags), lags
    assert len(intervals) >= 4
    assert all(abs(i - 20.0) <= 0.5 for i in intervals), intervals
    assert statistics.median(intervals) == pytest.approx(20.0, abs=0.05)


def test_status_messages_go_on_until_the_officers_phone_rings_and_stop_there(run: Run) -> None:
    """T-f "every 20 s until served", in each waiting caller's RTP against the INVITE that
    rang 2101's phone for them: every message the script began was heard beginning, 20 s
    apart, the last within 20.5 s before that INVITE (they did not stop early), and no prompt
    of the call flow began after it."""
    for caller in BUSY_CALLERS:
        rang = run.audio.rang_at("2101", caller)
        messages = run.audio.message_starts(caller, f"{DIRECT}/position_is", until=rang)
        starts = [t for t, _ in messages]
        intervals = [b - a for a, b in itertools.pairwise(starts)]
        print(f"{caller}: {len(starts)} messages, intervals {[f'{i:.3f}' for i in intervals]}"
              f"; the last began {rang - starts[-1]:.3f} s before 2101's phone got the INVITE"
              f", {messages[-1][1]:.3f} s of it played")
        status = run.audio.commands(caller, STATUS_MARK)
        assert all(ami_time(c) < rang for c in status), "none after"
        assert starts[-1] < rang <= starts[-1] + STANDARD + TOLERANCE, (caller, starts, rang)
        assert all(abs(i - STANDARD) <= TOLERANCE for i in intervals), (caller, intervals)
        after = run.audio.heard_after(caller, rang)
        assert not after, f"{caller} heard {after} after 2101's phone rang at {rang:.3f}"


def test_freed_officer_rings_the_next_caller_within_a_second(run: Run) -> None:
    """Caller 1: freed between messages by the test. Callers 2 and 3: freed when the previous
    call ends, whatever the next caller is hearing (often mid-message)."""
    log = run.rig.log
    latencies = []
    for caller in BUSY_CALLERS:
        dial = log.select(_dial_begin_of(caller))[0]
        assert dial["destchannel"].startswith(f"{BUSY_OFFICER}-")
        freed = max(ami_time(e) for e in log.select(device_state(BUSY_OFFICER, "NOT_INUSE"))
                    if ami_time(e) <= ami_time(dial))
        latencies.append(ami_time(dial) - freed)
    print(f"officer free -> next caller rung: {[f'{x:.3f}' for x in latencies]} s")
    assert ami_time(log.select(lambda e: e.event == "DialBegin"
                               and e.get("calleridnum") == BUSY_CALLERS[0])[0]) > run.freed_at
    assert all(0 <= x <= 1.0 for x in latencies), latencies
    answered = [e for e in log.events if e.event == "DialEnd"
                and e.get("calleridnum") in BUSY_CALLERS]
    assert [(e["calleridnum"], e["dialstatus"]) for e in answered] == [
        (c, "ANSWER") for c in BUSY_CALLERS], "each answered by 2101's phone, in order"


def test_three_callers_hear_positions_1_2_3_and_are_served_in_order(run: Run) -> None:
    first_positions = []
    for caller in BUSY_CALLERS:
        first = next(e for e in _event(run, "status_announced", officer="2101")
                     if e["uniqueid"] == _uniqueid(run, caller))
        first_positions.append(first["position"])
        assert first["interval_seconds"] is None
    assert first_positions == [1, 2, 3]
    dials = run.rig.log.select(lambda e: e.event == "DialBegin"
                               and e.get("calleridnum") in BUSY_CALLERS)
    assert [d["calleridnum"] for d in dials] == list(BUSY_CALLERS)
    # the position is said as a number file: caller 3's first message says "three"
    heard = [e["command"] for e in run.rig.log.events if e.event == "AGIExecStart"
             and e.get("calleridnum") == BUSY_CALLERS[2]]
    first_status = next(i for i, c in enumerate(heard) if STATUS_MARK in c)
    assert heard[first_status + 1].split("/")[-1].startswith('num-3"')
    # service recovery: 3rd in line, the expected wait passes the charter's max_wait (120 s)
    assert "/recovery" in " ".join(heard[first_status:first_status + 12])
    first_caller = [e["command"] for e in run.rig.log.events if e.event == "AGIExecStart"
                    and e.get("calleridnum") == BUSY_CALLERS[0]]
    first_message = first_caller[first_caller.index(next(
        c for c in first_caller if STATUS_MARK in c)):][:10]
    assert "/recovery" not in " ".join(first_message)
    # ... and so each caller heard it, in the first message (up to the second one).
    for caller, position in zip(BUSY_CALLERS, ("num-1", "num-2", "num-3"), strict=True):
        said = run.audio.heard_at(caller, f"{DIRECT}/position_is")
        number = [t for t in run.audio.heard_at(caller, f"{DIRECT}/{position}")
                  if said[0] < t < said[1]]
        gap = run.audio.hearing.seconds(f"{DIRECT}/position_is")
        assert len(number) == 1, (caller, said[:2], number)
        assert number[0] - said[0] == pytest.approx(gap, abs=0.1), "right after position_is"
        played = [e["command"] for e in run.audio.commands(caller, "STREAM FILE")
                  if said[0] - 0.3 < ami_time(e) < said[1] - 0.3]
        recovery = [t for t in run.audio.heard_at(caller, f"{DIRECT}/recovery")
                    if said[0] < t < said[1]]
        assert len(recovery) == sum("/recovery" in c for c in played), (caller, recovery)
    # Caller 2 (2nd in line: 2 x 60 s expected) is offered recovery too; caller 1 is not.
    offered = [bool(run.audio.heard_at(c, f"{DIRECT}/recovery")) for c in BUSY_CALLERS[1:]]
    assert offered == [True] * 2
    for caller in BUSY_CALLERS:
        lags = run.audio.heard_as_played(caller)
        print(f"{caller}: {len(lags)} prompts heard as played, {max(lags):.3f} s late at most")
        assert len(lags) >= 20, "the announcement and at least one whole message"


def _uniqueid(run: Run, caller: str) -> str:
    return run.rig.log.select(lambda e: e.event == "AGIExecStart"
                              and e.get("calleridnum") == caller)[0]["uniqueid"]


def test_announcement_plays_before_the_officer_rings(run: Run) -> None:
    transfer = run.notes["blind_transfer"]
    assert isinstance(transfer, dict)
    assert transfer["result"] == "Success"
    assert transfer["transfererchannel"].startswith("PJSIP/101-"), "101's phone sent the REFER"
    assert transfer["extension"] == "2102"
    events = run.rig.log.events
    name = next(i for i, e in enumerate(events) if is_exec(e, TRANSFERRED, "/officer-2102"))
    dept = next(i for i, e in enumerate(events) if is_exec(e, TRANSFERRED, "/dept-finance"))
    dial = next(i for i, e in enumerate(events) if e.event == "DialBegin"
                and e.get("calleridnum") == TRANSFERRED
                and e.get("destchannel", "").startswith("PJSIP/2102-"))
    digits = [e["command"] for e in events[dept:dial] if is_exec(e, TRANSFERRED, "/num-")]
    assert name < dept < dial
    assert [d.split("/")[-1].split('"')[0] for d in digits] == ["num-2", "num-1", "num-0", "num-2"]
    announced = _event(run, "transfer_announced", officer="2102",
                       uniqueid=events[name]["uniqueid"])
    assert announced
    assert announced[0]["officer_name"] == "Encik Lim Wei Jie"
    # What the caller heard, in this order, each prompt over before 2102's phone received its
    # INVITE: the name, the department, "extension" and the four digits.
    language = prompt_of(events[name]["command"]).split("/")[0]
    rang = run.audio.announced_before_ringing(TRANSFERRED, "2102", ANNOUNCEMENT_2102, language)
    print(f"{TRANSFERRED}: AMI DialBegin -> 2102's phone got the INVITE "
          f"{rang - ami_time(events[dial]):.3f} s")
    # ... and every prompt played to them whole (status messages too, if 2102 was busy).
    assert len(run.audio.heard_as_played(TRANSFERRED, until=rang)) >= 8


def test_caller_keys_an_extension_and_chooses_english(run: Run) -> None:
    heard = [e["command"] for e in run.rig.log.events if e.event == "AGIExecStart"
             and e.get("calleridnum") == KEYED and "STREAM FILE" in e.get("command", "")]
    assert heard[0].startswith('STREAM FILE "/srv/callsla/')
    assert "/en/transfer_to" in heard[0]
    assert any("/en/officer-2102" in c for c in heard)
    # The caller heard it in English (the DTMF went over RTP, RFC 4733), not in Malay.
    told = run.audio.heard_at(KEYED, "en/transfer_to")
    named = run.audio.heard_at(KEYED, "en/officer-2102")
    assert len(told) == len(named) == 1, (told, named)
    assert told[0] < named[0]
    assert run.audio.heard_at(KEYED, "ms/transfer_to") == []
    run.audio.announced_before_ringing(KEYED, "2102", ANNOUNCEMENT_2102, "en")
    assert len(run.audio.heard_as_played(KEYED)) >= 8  # the announcement (and any wait for 2102)


def test_waiting_caller_presses_1_for_a_message_and_leaves_no_state(run: Run) -> None:
    uniqueid = _uniqueid(run, CHOOSER)
    choice = _event(run, "caller_choice", uniqueid=uniqueid)
    assert [(c["choice"], c["where"]) for c in choice] == [("1", "waiting")]
    assert _event(run, "voicemail_left", uniqueid=uniqueid, officer="2101")
    assert _event(run, "callback_created", uniqueid=uniqueid)
    assert _event(run, "status_announced", uniqueid=uniqueid)[0]["position"] == 4
    assert run.rig.flows.lines.waiting_total() == 0, "nobody left in any line"
    assert run.rig.flows.lines["2101"].engaged_by is None
    # Heard: "you are caller number four", then (after the key) the request for a message.
    said = run.audio.heard_at(CHOOSER, f"{DIRECT}/position_is")
    four = run.audio.heard_at(CHOOSER, f"{DIRECT}/num-4")
    asked = run.audio.heard_at(CHOOSER, f"{DIRECT}/leave_message")
    assert len(said) == len(four) == len(asked) == 1, (said, four, asked)
    assert said[0] < four[0] < asked[0]
    key = ami_time(run.rig.log.select(lambda e: is_exec(e, CHOOSER, "/leave_message"))[0])
    # The announcement, officer_busy and the message up to the prompt the key cut short.
    assert len(run.audio.heard_as_played(CHOOSER, until=key)) >= 8 + 1 + 4


def test_unanswered_transfer_returns_ahead_of_a_new_caller(run: Run) -> None:
    joins = run.rig.log.select(lambda e: e.event == "QueueCallerJoin"
                               and e.get("calleridnum") in (UNANSWERED, NEW_AT_DESK))
    by_caller = {e["calleridnum"]: e for e in joins}
    returned = by_caller[UNANSWERED]
    assert joins.index(returned) > joins.index(by_caller[NEW_AT_DESK]), "joined after"
    assert returned["position"] == "1", "ahead of the caller already waiting"
    assert returned["calleridname"].startswith("RTN 2201")
    assert run.audio.commands(UNANSWERED, "/not_answering"), "the caller is told"
    event = _event(run, "transfer_returned", officer="2201")
    assert len(event) == 1
    assert 19.5 <= float(str(event[0]["ring_seconds"])) <= 21.5
    queue_log = (run.rig.lab.pbx.log_dir / "queue_log").read_text()  # type: ignore[union-attr]
    assert "CALLSLA_RETURNED|2201|no_answer" in queue_log
    # The caller heard it once 2201's phone had rung its 20 s, before joining the desk;
    # both waiting callers were then answered by a receptionist.
    rang = ami_time(run.rig.log.select(lambda e: e.event == "DialBegin"
                                       and e.get("calleridnum") == UNANSWERED)[0])
    told = run.audio.heard_at(UNANSWERED, f"{DIRECT}/not_answering")
    assert len(told) == 1, told
    assert rang + 19.5 <= told[0] <= ami_time(returned), (rang, told)
    assert len(run.audio.heard_as_played(UNANSWERED)) == 9  # the announcement, not_answering
    connects = run.rig.log.select(lambda e: e.event == "AgentConnect"
                                  and e.get("calleridnum") in (UNANSWERED, NEW_AT_DESK))
    assert sorted(c["calleridnum"] for c in connects) == sorted((UNANSWERED, NEW_AT_DESK))
    assert sorted(c["interface"] for c in connects) == [f"PJSIP/{e}" for e in FRONT_DESK]


def test_message_for_an_out_of_office_officer(run: Run) -> None:
    # The lab's spool lives for the whole session: another module may have left a message for
    # 2301 first, so the event names the new message and that file holds the recording.
    left = _event(run, "voicemail_left", officer="2301")
    assert len(left) == 1
    message_id = str(left[0]["message_id"])
    assert re.fullmatch(r"callsla/2301/INBOX/msg\d{4}", message_id)
    assert (run.rig.spool / f"{message_id}.wav").stat().st_size > 1000
    assert float(str(left[0]["duration_seconds"])) > 1
    callback = _event(run, "callback_created", officer="2301")
    assert len(callback) == 1
    assert callback[0]["caller_number"] == OUT_OF_OFFICE
    assert callback[0]["caller_name"] == "Lab Caller"
    assert message_id in str(callback[0]["matter"])
    assert callback[0]["due_at"] > callback[0]["timestamp"]  # type: ignore[operator]
    told_out = run.audio.heard_at(OUT_OF_OFFICE, f"{DIRECT}/officer_out")
    asked = run.audio.heard_at(OUT_OF_OFFICE, f"{DIRECT}/leave_message")
    assert len(told_out) == len(asked) == 1, (told_out, asked)
    assert told_out[0] < asked[0]
    assert len(run.audio.heard_as_played(OUT_OF_OFFICE)) == 2


def test_hostile_caller_id_is_harmless(run: Run) -> None:
    rig = run.rig
    assert base64.b64decode("IngKRVhFQyBEaWFsKExvY2FsL28yMTAxQGxhYi1waG9uZXMp").decode() \
        == HOSTILE_NAME
    commands = [e.get("command", "") for e in rig.log.events if e.event == "AGIExecStart"]
    assert not [c for c in commands if "Local/o2101@lab-phones)" in c or "$x" in c]
    hostile_dials = rig.log.select(lambda e: e.event == "DialBegin"
                                   and e.get("calleridnum") == HOSTILE_NUMBER)
    assert [d.get("destchannel", "").split("-")[0] for d in hostile_dials] == ["PJSIP/2102"]
    assert [d["channel"].rsplit("-", 1)[0] for d in hostile_dials] == [f"PJSIP/{HOSTILE_GATEWAY}"]
    # 2102's phone took the INVITE: the name reached it without its newline ([from-pstn]
    # drops control characters; PJSIP wrote it raw into the From, and the phone dropped that).
    rang = rig.log.select(lambda e: e.event == "DialEnd" and e.get("calleridnum") == HOSTILE_NUMBER)
    assert [d["dialstatus"] for d in rang] == ["ANSWER"]
    names = {d["calleridname"] for d in hostile_dials}  # AMI shows the quote as \"
    assert len(names) == 1, names
    assert all("xEXEC Dial(Local/o2101@lab-phones)" in n and n.isprintable() for n in names)
    callback = _event(rig_run := run, "callback_created", officer="2202")
    assert len(callback) == 1, rig_run.rig.mqtt.of_type("callback_created")
    assert "\n" not in str(callback[0]["caller_name"])
    assert not set('"|;$\\') & set(str(callback[0]["caller_number"]) + str(
        callback[0]["caller_name"]))
    assert (rig.spool / "callsla" / "2202" / "INBOX" / "msg0000.wav").exists()
    assert not [line for line in rig.logs.lines if "\n" in line]


def test_broker_outage_loses_no_event_and_sends_none_twice(run: Run) -> None:
    assert int(str(run.notes["events_while_down"])) > 0, "calls produced events while down"
    received = [str(p["event_id"]) for p in run.rig.mqtt.received]
    put = run.rig.outbox.put_ids
    print(f"events: {len(put)} stored, {len(received)} received, "
          f"{int(str(run.notes['events_while_down']))} while the broker was down")
    assert set(received) == set(put)
    assert len(received) == len(set(received)), "every event exactly once"


async def test_unreachable_agi_server_sends_the_caller_to_the_front_desk(run: Run) -> None:
    rig = run.rig
    good = await rig.ami.action("Getvar", Variable="CALLSLA_AGI")
    await rig.setvar("CALLSLA_AGI", "agi://127.0.0.1:1")
    try:
        caller = await run.phones.call_in("0350000001", dialled="2102", patience=5)
        join = await rig.log.wait_for(lambda e: e.event == "QueueCallerJoin"
                                      and e.get("calleridnum") == "0350000001", 15, "queued")
    finally:
        await rig.setvar("CALLSLA_AGI", good["value"])
    await caller.finished(30)  # answered: it hung up on its own after 5 s
    assert join["calleridname"].startswith("RTN 2102")
    assert caller.recorder.packets, "the caller heard the front desk's music"


async def test_script_error_sends_the_caller_to_the_front_desk(run: Run) -> None:
    rig = run.rig
    good = rig.directory_file.read_text()
    rig.directory_file.write_text(good + "\n[[officer]]\nextension = 'broken'\n")
    try:
        caller = await run.phones.call_in("0350000002", dialled="2102", patience=5)
        join = await rig.log.wait_for(lambda e: e.event == "QueueCallerJoin"
                                      and e.get("calleridnum") == "0350000002", 15, "queued")
    finally:
        rig.directory_file.write_text(good)
    await caller.finished(30)  # answered: it hung up on its own after 5 s
    assert join["calleridname"].startswith("RTN 2102")
    assert caller.recorder.packets, "the caller heard the front desk's music"
    assert any("officer_call failed" in line for line in rig.logs.lines)


def test_prompts_exist_in_both_languages(lab: Lab) -> None:
    assert lab.pbx is not None
    root = lab.pbx.prompts_dir
    for lang in ("ms", "en"):
        assert (root / lang / "press_1.wav").stat().st_size > 1000
        assert (root / lang / "num-21.wav").exists()
        assert (root / lang / "officer-2101.wav").exists()
    assert Path(root / "ms" / "num-11.wav").read_bytes() != Path(
        root / "en" / "num-11.wav").read_bytes()


async def test_closing_a_callback_publishes_action_and_dates(
        run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """(e) action and (f) dates go out as `callback_closed`, which the monitor's store applies.

    The help desk's store holds the callback as a monitor recorded it from the published
    `callback_created`; `callsla callbacks close` closes it there and publishes the close."""
    rig = run.rig
    created = _event(run, "callback_created", officer="2301")[0]
    callback_id = str(created["callback_id"])
    db_url = f"sqlite:///{tmp_path}/help-desk.db"
    with open_store(db_url) as store:
        recorder = Recorder(store=store, metrics=create_call_metrics(CollectorRegistry()),
                            pbx="lab")
        assert record_flow_event(recorder, parse_event(json.dumps(created)),
                                 payload=json.dumps(created))
    # The help desk's own MQTT user: it may publish callback_closed and nothing else.
    monkeypatch.delenv("CALLSLA_MQTT_URL", raising=False)
    monkeypatch.setenv("CALLSLA_MQTT_PUBLISH_URL", rig.lab.config.part_mqtt_url("helpdesk"))
    code = await asyncio.to_thread(main, [
        "callbacks", "close", callback_id, "--action", "Called back; licence renewed",
        "--informed-at", "now", "--db-url", db_url, "--outbox", str(tmp_path / "outbox")])
    assert code == 0
    async with asyncio.timeout(10):
        while not _event(run, "callback_closed", callback_id=callback_id):  # noqa: ASYNC110
            await asyncio.sleep(0.1)
    closed = _event(run, "callback_closed", callback_id=callback_id)[0]
    assert closed["action_taken"] == "Called back; licence renewed"
    assert closed["done_at"]
    assert closed["caller_informed_at"]
    assert closed["officer"] == "2301"
    # What the broker delivered, through the monitor's own MQTT handling, into a store.
    with open_store(f"sqlite:///{tmp_path}/monitor.db") as store:
        recorder = Recorder(store=store, metrics=create_call_metrics(CollectorRegistry()),
                            pbx="lab")
        recorder.start()
        feed = MqttFeed(endpoint=parse_endpoint("mqtt", rig.lab.config.mqtt_url,
                                                schemes={"mqtt": 1883}), recorder=recorder,
                        client_id="test-feed")
        assert feed.handle(json.dumps(created))
        opened = store.get_callback("lab", callback_id)
        assert opened is not None
        assert opened.status is CallbackStatus.OPEN
        assert feed.handle(json.dumps(closed))
        stored = store.get_callback("lab", callback_id)
    assert stored is not None
    assert stored.status is CallbackStatus.CLOSED
    assert stored.action_taken == "Called back; licence renewed"
    assert stored.done_at == datetime.fromisoformat(str(closed["done_at"]))
    assert stored.caller_informed_at == datetime.fromisoformat(str(closed["caller_informed_at"]))
