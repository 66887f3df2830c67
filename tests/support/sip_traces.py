"""Record the AMI event stream of each call path with SIP phones, for the counting's unit tests.

    CALLSLA_LAB_PORT_OFFSET=200 .venv/bin/python -m tests.support.sip_traces [PATH ...]

starts the lab's Asterisk and Mosquitto, the FastAGI call flows (as the call-flow tests do),
runs each path (all when none is named) and writes tests/data/sip_traces/<path>.txt: every AMI
event from connecting to the PBX going idle, `key: value` lines, a blank line between events,
as tests/data/ami_answered_then_abandoned.txt.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from lab import Lab
from lab.sip.phones import SipPhones, sip_phones
from lab.sip.scenarios import (
    Answer,
    AttendedTransfer,
    BlindTransfer,
    Dtmf,
    Forward,
    NoAnswer,
)
from monitor.ami import AmiMessage
from tests.support.callflow_harness import AmiLog, CallFlowRig, start_rig

TRACES = Path(__file__).resolve().parents[1] / "data" / "sip_traces"
CALLER = "0312345678"

Path_ = Callable[[SipPhones, CallFlowRig], Awaitable[None]]


def dial_begin_to(log: AmiLog, device: str) -> Callable[[AmiMessage], bool]:
    def match(event: AmiMessage) -> bool:
        return (event.event == "DialBegin"
                and event.get("destchannel", "").startswith(f"{device}-"))
    return match


async def a_ringall_one_answers(phones: SipPhones, rig: CallFlowRig) -> None:
    """(a) ringall front desk of 101 and 102; 101 answers after 3 s, 102 is cancelled."""
    await phones.use_front_desk(["101", "102"], strategy="ringall")
    phones.receptionist("101", Answer(after=3, talk=4))
    phones.receptionist("102", NoAnswer())
    await phones.call_in(CALLER, name="Ali Caller", patience=30)


async def b_rrmemory_ring_no_answer(phones: SipPhones, rig: CallFlowRig) -> None:
    """(b) rrmemory, 6 s per member: the first member rung (101: a freshly loaded app_queue
    rings it first) does not answer, the next (102) answers after 5 s."""
    await phones.use_front_desk(["101", "102"], strategy="rrmemory", ring_timeout=6)
    phones.receptionist("101", NoAnswer())
    phones.receptionist("102", Answer(after=5, talk=4))  # 6 + 1 (retry) + 5: past 10 s
    await phones.call_in(CALLER, name="Ali Caller", patience=40)
    first = await rig.log.wait_for(lambda e: e.event == "DialBegin", 15, "the queue to ring")
    assert first["destchannel"].startswith("PJSIP/101-"), f"rang {first['destchannel']} first"


async def c_caller_abandons(phones: SipPhones, rig: CallFlowRig) -> None:
    """(c) nobody answers; the caller hangs up after 7 s in the queue."""
    await phones.use_front_desk(["101", "102"], strategy="ringall")
    phones.receptionist("101", NoAnswer())
    phones.receptionist("102", NoAnswer())
    await phones.call_in(CALLER, name="Ali Caller", patience=7)


async def d_blind_refer_answered(phones: SipPhones, rig: CallFlowRig) -> None:
    """(d) 101 answers after 2 s, talks 2 s, REFERs the caller to 2101, who answers after 3 s."""
    await phones.use_front_desk(["101"], strategy="rrmemory")
    phones.receptionist("101", BlindTransfer(to="2101", after=2, talk=2))
    phones.officer("2101", Answer(after=3, talk=4))
    await phones.call_in(CALLER, name="Ali Caller", patience=60)


async def e_blind_refer_returned(phones: SipPhones, rig: CallFlowRig) -> None:
    """(e) 101 REFERs to 2201, who never answers: after the 20 s ring the caller is back at
    the front desk, where 101 answers after 2 s."""
    await phones.use_front_desk(["101"], strategy="rrmemory")
    phones.receptionist("101", BlindTransfer(to="2201", after=2, talk=2), Answer(after=2, talk=3))
    phones.officer("2201", NoAnswer())
    await phones.call_in(CALLER, name="Ali Caller", patience=90)


async def f_attended_refer(phones: SipPhones, rig: CallFlowRig) -> None:
    """(f) 101 answers, consults 2101 on a second line (the announcement plays to 101, 2101
    answers after 2 s), and 15 s into the consult REFERs with Replaces; the caller talks to
    2101 and hangs up at 45 s."""
    await phones.use_front_desk(["101"], strategy="rrmemory")
    phones.receptionist("101", AttendedTransfer(to="2101", after=2, talk=2, consult=15))
    phones.officer("2101", Answer(after=2, wait_for_bye=True))
    await phones.call_in(CALLER, name="Ali Caller", patience=45)


async def g1_dtmf_blind(phones: SipPhones, rig: CallFlowRig) -> None:
    """(g) 101 answers after 2 s and keys #1 2101 (features.conf blind transfer)."""
    await phones.use_front_desk(["101"], strategy="rrmemory")
    phones.receptionist("101", Answer(after=2, talk=30, keys=(Dtmf(2, "#1"), Dtmf(4, "2101"))))
    phones.officer("2101", Answer(after=3, talk=4))
    await phones.call_in(CALLER, name="Ali Caller", patience=60)


async def g2_dtmf_attended(phones: SipPhones, rig: CallFlowRig) -> None:
    """(g) 101 answers after 2 s, keys *2 2102 (attended transfer), talks to 2102 once it
    answers and hangs up at 25 s, which completes the transfer; the caller hangs up at 45 s."""
    await phones.use_front_desk(["101"], strategy="rrmemory")
    phones.receptionist("101", Answer(after=2, talk=25, keys=(Dtmf(2, "*2"), Dtmf(4, "2102"))))
    phones.officer("2102", Answer(after=2, wait_for_bye=True))
    await phones.call_in(CALLER, name="Ali Caller", patience=45)


async def h_busy_officer_abandoned(phones: SipPhones, rig: CallFlowRig, *,
                                   busy_for: float = 70, patience: float = 45) -> None:
    """(h) 2101 is on a call with 103; 101 REFERs a caller to 2101, the caller waits (status
    every 20 s) and hangs up after 45 s; 2101's call ends at 70 s. 103's `busy_for` counts from
    the PBX answering 103, before the call flow's ~9 s announcement to 103: it must outlast
    the customer's `patience`, or the flow rings 2101 for the customer after all."""
    await phones.use_front_desk(["101"], strategy="rrmemory")
    phones.officer("2101", Answer(after=1, wait_for_bye=True))
    phones.call_from("103", "2101", talk=busy_for)
    await rig.log.wait_for(lambda e: e.event == "DialEnd" and e.get("dialstatus") == "ANSWER",
                           30, "2101 to answer 103")
    phones.receptionist("101", BlindTransfer(to="2101", after=2, talk=2))
    await phones.call_in(CALLER, name="Ali Caller", patience=patience)


async def i_pickup(phones: SipPhones, rig: CallFlowRig) -> None:
    """(i) a caller dials 2101 directly; while it rings, 2102 keys *8 and picks it up."""
    await phones.use_front_desk(["101"], strategy="rrmemory")
    phones.officer("2101", NoAnswer())
    await phones.call_in(CALLER, name="Ali Caller", dialled="2101", patience=40)
    await rig.log.wait_for(dial_begin_to(rig.log, "PJSIP/2101"), 30, "2101 to ring")
    await asyncio.sleep(3)
    phones.call_from("2102", "*8", talk=8)


async def j_forward(phones: SipPhones, rig: CallFlowRig) -> None:
    """(j) a caller dials 2101 directly; 2101 forwards (302) to 2102 after 2 s; 2102 answers."""
    await phones.use_front_desk(["101"], strategy="rrmemory")
    phones.officer("2101", Forward(to="2102", after=2))
    phones.officer("2102", Answer(after=2, talk=4))
    await phones.call_in(CALLER, name="Ali Caller", dialled="2101", patience=60)


async def k_internal(phones: SipPhones, rig: CallFlowRig) -> None:
    """(k) receptionist 101 calls officer 2101 (staff to staff), who answers after 3 s."""
    await phones.use_front_desk(["101"], strategy="rrmemory")
    phones.officer("2101", Answer(after=3, wait_for_bye=True))
    phones.call_from("101", "2101", talk=12)


async def l_direct_answered(phones: SipPhones, rig: CallFlowRig) -> None:
    """(l) a customer dials 2101 on the trunk; 2101 answers after 3 s and talks 5 s."""
    await phones.use_front_desk(["101"], strategy="rrmemory")
    phones.officer("2101", Answer(after=3, talk=5))
    await phones.call_in(CALLER, name="Ali Caller", dialled="2101", patience=60)


async def m_direct_returned(phones: SipPhones, rig: CallFlowRig) -> None:
    """(m) a customer dials 2201, who never answers; after 20 s the caller is at the front
    desk, where 101 answers after 2 s."""
    await phones.use_front_desk(["101"], strategy="rrmemory")
    phones.officer("2201", NoAnswer())
    phones.receptionist("101", Answer(after=2, talk=3))
    await phones.call_in(CALLER, name="Ali Caller", dialled="2201", patience=90)


async def n_unavailable(phones: SipPhones, rig: CallFlowRig) -> None:
    """(n) a customer dials 2302, whose phone is not registered (no contact): the call flow
    rings no one but offers a message (`officer_unavailable`, `leave_message`, VoiceMail);
    the caller stays 15 s from the answer, a few seconds past the tone, and hangs up, which
    ends the message. The directory has 2302 on leave: set in, as `callsla officer
    set-status 2302 in` does (AstDB), for this path only."""
    await phones.use_front_desk(["101"], strategy="rrmemory")
    reply = await rig.ami.action("DBPut", Family="callsla", Key="officer/2302/status", Val="in")
    assert reply.succeeded, reply
    await phones.call_in(CALLER, name="Ali Caller", dialled="2302", patience=15)
    await rig.log.wait_for(lambda e: (e.event == "Hangup"
                                      and e.get("channel", "").startswith("PJSIP/trunk-")),
                           60, "the caller to hang up")
    await rig.ami.action("DBDel", Family="callsla", Key="officer/2302/status")


PATHS: dict[str, Path_] = {
    "a_ringall_one_answers": a_ringall_one_answers,
    "b_rrmemory_ring_no_answer": b_rrmemory_ring_no_answer,
    "c_caller_abandons": c_caller_abandons,
    "d_blind_refer_answered": d_blind_refer_answered,
    "e_blind_refer_returned": e_blind_refer_returned,
    "f_attended_refer": f_attended_refer,
    "g1_dtmf_blind": g1_dtmf_blind,
    "g2_dtmf_attended": g2_dtmf_attended,
    "h_busy_officer_abandoned": h_busy_officer_abandoned,
    "i_pickup": i_pickup,
    "j_forward": j_forward,
    "k_internal": k_internal,
    "l_direct_answered": l_direct_answered,
    "m_direct_returned": m_direct_returned,
    "n_unavailable": n_unavailable,
}


def write_trace(events: list[AmiMessage], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    blocks = ["\n".join(f"{key}: {event[key]}" for key in event) for event in events]
    out.write_text("\n\n".join(blocks) + "\n")


async def wait_idle(lab: Lab, timeout: float = 30.0) -> None:
    assert lab.pbx is not None
    deadline = time.monotonic() + timeout
    while not lab.pbx.cli("core show channels count").startswith("0 active channels"):
        if time.monotonic() > deadline:
            raise AssertionError("the PBX still has calls: "
                                 + lab.pbx.cli("core show channels concise"))
        await asyncio.sleep(0.5)


async def record(lab: Lab, name: str, out_dir: Path) -> Path:
    """Run one path on a fresh rig and phones; write and return its trace."""
    await wait_idle(lab)
    with tempfile.TemporaryDirectory() as work:
        rig = await start_rig(lab, Path(work))
        try:
            async with sip_phones(lab) as phones:
                await PATHS[name](phones, rig)
                await phones.finished(timeout=150)
                await wait_idle(lab)
                await asyncio.sleep(1)  # the last Hangup/Cdr events
        finally:
            await rig.close()
    out = out_dir / f"{name}.txt"
    write_trace(rig.log.events, out)
    return out


async def main(names: list[str], out_dir: Path) -> int:
    lab = Lab()
    lab.start(("asterisk", "mosquitto"))
    failed = []
    try:
        for name in names:
            try:
                out = await record(lab, name, out_dir)
                print(f"{name}: {out}")
            except Exception as exc:
                failed.append(name)
                print(f"{name}: FAILED {type(exc).__name__}: {exc}", file=sys.stderr)
                assert lab.pbx is not None
                lab.pbx.cli("channel request hangup all")
    finally:
        lab.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help=f"some of: {' '.join(PATHS)}")
    parser.add_argument("--out", type=Path, default=TRACES)
    args = parser.parse_args()
    unknown = set(args.paths) - set(PATHS)
    if unknown:
        parser.error(f"no such path: {' '.join(sorted(unknown))}")
    logging.basicConfig(level=logging.WARNING)
    sys.exit(asyncio.run(main(args.paths or list(PATHS), args.out)))
