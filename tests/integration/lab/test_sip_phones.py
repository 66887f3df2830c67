"""The lab's SIP phones (lab.sip): real SIPp user agents against the lab's Asterisk over PJSIP.

A caller over the trunk reaches a front desk of SIP receptionists and is answered after the
chosen delay; a receptionist's blind REFER reaches an officer; a 486 phone is busy; a phone
that serves until stopped answers one SIPp's many callers and lets the ones it ignores give
up; a direct call over the plain trunk rings out and the caller takes the 480; a phone's
next behaviour is ready before its next call; port slots are used again once free; stopping
the phones, or a run killed without stopping them, leaves no SIPp and no bound port.
"""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from lab import Lab
from lab.sip import phonebook
from lab.sip.phones import ScenarioError, SipPhones, kill_leftover_phones, sip_phones
from lab.sip.scenarios import Answer, BlindTransfer, Busy, NoAnswer
from monitor.ami import AmiMessage
from tests.support.callflow_harness import CallFlowRig, start_rig


@pytest.fixture(scope="module")
async def rig(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[CallFlowRig]:
    """The FastAGI call flows and an AMI log, for the whole module."""
    the_rig = await start_rig(lab, tmp_path_factory.mktemp("sip"))
    yield the_rig
    await the_rig.close()


@pytest.fixture
async def phones(lab: Lab, rig: CallFlowRig) -> AsyncIterator[SipPhones]:
    async with sip_phones(lab) as the_phones:
        yield the_phones


def _of(caller: str, name: str) -> Callable[[AmiMessage], bool]:
    def match(event: AmiMessage) -> bool:
        return event.event == name and event.get("calleridnum") == caller
    return match


def _dial_end(device: str, status: str) -> Callable[[AmiMessage], bool]:
    def match(event: AmiMessage) -> bool:
        return (event.event == "DialEnd" and event.get("dialstatus") == status
                and event.get("destchannel", "").startswith(f"{device}-"))
    return match


async def test_a_trunk_caller_is_answered_by_a_sip_receptionist_after_the_delay(
        phones: SipPhones, rig: CallFlowRig) -> None:
    await phones.use_front_desk(["101", "102"], strategy="ringall")
    phones.receptionist("101", Answer(after=4, talk=2))
    phones.receptionist("102", NoAnswer())
    caller = await phones.call_in("0380000001", name="Siti Pemanggil", patience=30)
    join = await rig.log.wait_for(_of("0380000001", "QueueCallerJoin"), 15,
                                  "the caller to join the front desk")
    assert join["queue"] == "frontdesk"
    assert join["calleridname"] == "Siti Pemanggil"  # from P-Asserted-Identity
    assert join["channel"].startswith("PJSIP/trunk-")
    connect = await rig.log.wait_for(_of("0380000001", "AgentConnect"), 15,
                                     "a receptionist to answer")
    assert connect["interface"] == "PJSIP/101"
    assert int(connect["holdtime"]) in (4, 5)
    await caller.finished(30)
    await phones.finished(10)
    assert caller.recorder.packets, "the caller heard no RTP"
    assert caller.recording.stat().st_size > 1000


async def test_d_a_blind_refer_reaches_the_officer(phones: SipPhones, rig: CallFlowRig) -> None:
    await phones.use_front_desk(["101"], strategy="rrmemory")
    phones.receptionist("101", BlindTransfer(to="2101", after=1, talk=1))
    phones.officer("2101", Answer(after=2, talk=2))
    caller = await phones.call_in("0380000002", patience=60)
    transfer = await rig.log.wait_for(
        lambda e: e.event == "BlindTransfer" and e.get("transfereecalleridnum") == "0380000002",
        20, "the receptionist's REFER")
    assert transfer["result"] == "Success"
    assert transfer["extension"] == "2101"
    answered = await rig.log.wait_for(_dial_end("PJSIP/2101", "ANSWER"), 40,
                                      "2101 to answer the transferred caller")
    assert answered["calleridnum"] == "0380000002"
    assert answered["channel"] == transfer["transfereechannel"]
    await caller.finished(30)
    await phones.finished(10)


async def test_a_486_officer_is_busy(phones: SipPhones, rig: CallFlowRig) -> None:
    await phones.use_front_desk(["101"], strategy="rrmemory")
    phones.officer("2102", Busy())
    phones.receptionist("101", Answer(after=1, talk=1))
    caller = await phones.call_in("0380000003", dialled="2102", patience=60)
    busy = await rig.log.wait_for(_dial_end("PJSIP/2102", "BUSY"), 40,
                                  "2102's 486 to end the dial")
    assert busy["calleridnum"] == "0380000003"
    # Not answered by the officer, the caller goes back to the front desk (T-g).
    await rig.log.wait_for(_of("0380000003", "AgentConnect"), 40,
                           "the front desk to take the caller back")
    await caller.finished(40)
    await phones.finished(10)


async def test_a_serving_phone_answers_many_callers_and_ignores_some(
        phones: SipPhones, rig: CallFlowRig) -> None:
    await phones.use_front_desk(["101"], strategy="rrmemory")
    phone = phones.receptionist("101", Answer(after=0.3, talk=0.3, ignore="03804"), calls=None)
    answered = phones.calls_in(6, numbers="0380300", per_second=4, patience=30)
    given_up = phones.calls_in(2, numbers="0380400", per_second=1, patience=2)
    await answered.finished(60)
    await given_up.finished(60)
    connects = rig.log.select(lambda e: e.event == "AgentConnect"
                              and e.get("calleridnum", "").startswith("03803"))
    assert sorted(e["calleridnum"] for e in connects) == [f"0380300{n}" for n in range(1, 7)]
    abandons = rig.log.select(lambda e: e.event == "QueueCallerAbandon"
                              and e.get("calleridnum", "").startswith("03804"))
    assert sorted(e["calleridnum"] for e in abandons) == ["03804001", "03804002"]
    assert not rig.log.select(lambda e: e.event == "AgentConnect"
                              and e.get("calleridnum", "").startswith("03804"))
    await phone.finished()  # still serving: no failure, no exit
    assert phone.runs[0].returncode is None


async def test_a_direct_call_on_the_plain_trunk_rings_out(phones: SipPhones,
                                                         rig: CallFlowRig) -> None:
    phones.officer("2201", NoAnswer())
    caller = await phones.call_in("0380000005", dialled="2201", trunk="direct-trunk",
                                  may_ring_out=True)
    dial = await rig.log.wait_for(_dial_end("PJSIP/2201", "NOANSWER"), 20,
                                  "the 4 s Dial to give up")
    assert dial["calleridnum"] == "0380000005"
    assert dial["context"] == "lab-direct"  # a plain Dial: no call-flow script ran
    await caller.finished(20)
    await phones.finished(10)


async def test_a_phone_is_ready_for_its_next_behaviour(phones: SipPhones,
                                                       rig: CallFlowRig) -> None:
    await phones.use_front_desk(["101"], strategy="rrmemory")
    phone = phones.receptionist("101", Answer(after=1, talk=1), Answer(after=3, talk=1))
    holds = []
    for n in range(2):
        await phone.ready_for(n)
        caller = await phones.call_in(f"038000001{n}", patience=30)
        connect = await rig.log.wait_for(_of(f"038000001{n}", "AgentConnect"), 15,
                                         "101 to answer")
        holds.append(int(connect["holdtime"]))
        await caller.finished(30)
    assert holds[0] in (1, 2), holds
    assert holds[1] in (3, 4), holds
    await phones.finished(10)


async def test_port_slots_come_back_when_their_sipp_has_exited(phones: SipPhones) -> None:
    phones._next_slot = iter(phonebook.DYNAMIC_SLOTS[:2])  # as if 39 had gone already
    first = phones.calls_in(1, numbers="0380500", per_second=1, patience=0.5)
    second = phones.calls_in(1, numbers="0380501", per_second=1, patience=30)
    with pytest.raises(ScenarioError, match="every SIPp port slot is in use"):
        phones.calls_in(1, numbers="0380502", per_second=1, patience=1)
    await first.finished(20)
    third = phones.calls_in(1, numbers="0380503", per_second=1, patience=0.5)
    assert third.ports == first.ports
    await third.finished(20)
    await second.finished(60)


def _bound(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(
        f"/proc/{pid}/status").read_text().lower()


async def test_stopping_the_phones_leaves_no_sipp_and_no_bound_port(lab: Lab) -> None:
    async with sip_phones(lab) as phones:
        phones.officer("2201", NoAnswer())
        phones.officer("2202", Busy())
        runs = list(phones.runs)
        ports = [p for run in runs for p in (run.ports.sip, run.ports.media)]
        pids = [run.process.process.pid for run in runs if run.process.process is not None]
        assert all(_alive(pid) for pid in pids)
    assert not any(_alive(pid) for pid in pids), "a SIPp outlived the phones"
    assert not [p for p in ports if _bound(p)], "a phone's port is still bound"
    assert not list((lab.config.lab_dir / "run" / "sip").glob("*.pid"))


async def test_a_killed_run_leaves_pid_files_that_the_next_start_ends(lab: Lab) -> None:
    phones = SipPhones(lab)  # never stopped: as if the test process had been killed
    phones.officer("2301", NoAnswer())
    pid = phones.runs[0].process.process.pid  # type: ignore[union-attr]
    port = phonebook.phone_ports(lab.config.ports, "2301").sip
    assert _alive(pid)
    kill_leftover_phones(lab.config)  # what sip_phones() and Lab.stop() do first
    phones.runs[0].process.process.wait(5)  # type: ignore[union-attr]  # reap our child
    assert not _alive(pid)
    assert not _bound(port)
