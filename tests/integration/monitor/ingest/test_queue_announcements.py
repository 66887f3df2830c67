"""Status messages at the front desk (charter T-f), on real SIP phones: what the callers heard
(their RTP, matched against the generated prompts) and what a `callsla monitor` with AMI alone
(read-only user, no MQTT, no queue_log) measured, each interval start to start.

Two ways a caller waits at the front desk:
- every receptionist is on another call: app_queue plays `frontdesk_status` every 20 s
  (asterisk_conf/queues.conf), in the caller's language (the line's LINE_LANGUAGE), and the
  monitor's intervals and the audio's are each 20 s +- 0.5 s;
- the only receptionist's phone rings and nobody answers: app_queue plays no message while a
  member's phone rings (measured on Asterisk 22.10, docs/decisions.md), so the message due at
  20 s waits for the 15 s ring to end. The monitor must measure what the caller heard, late as
  it is: its interval equals the audio's, and it is counted late.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lab import Lab
from lab.sip.heard import MATCH, HeardAudio, read_prompt
from lab.sip.phones import Caller, Phone, sip_phones
from lab.sip.scenarios import Answer, NoAnswer
from monitor.ami import AmiClient
from monitor.core.records import StatusAnnouncement
from monitor.store import open_store
from tests.support.callflow_harness import AmiLog
from tests.support.monitor_run import MonitorRun

STANDARD, TOLERANCE = 20.0, 0.5
LINES = {"ms": "1001", "en": "1002"}  # LINE_LANGUAGE_<line>, set for this module
OCCUPIED = 66.0  # the receptionist's other call: each caller hears three messages meanwhile
INTERVAL = "callsla_status_announcement_interval_seconds"
FRONT_DESK = {"queue": "frontdesk", "department": ""}


@dataclass
class Waited:
    """One caller's wait at the front desk: what AMI said, what was heard, what was stored."""

    language: str
    number: str
    call: Caller
    uniqueid: str = ""
    answered_at: float = 0.0
    rang_at: list[float] = field(default_factory=list)  # INVITEs 101's phone got for this call


    def heard(self) -> HeardAudio:
        return self.call.heard()


@dataclass
class Run:
    lab: Lab
    log: AmiLog
    monitor: MonitorRun
    db_url: str
    busy: list[Waited]
    rang: Waited | None = None

    def prompt(self, language: str) -> Path:
        assert self.lab.pbx is not None
        return self.lab.pbx.host_path(
            f"{self.lab.pbx.inst}/sounds/callsla/{language}/frontdesk_status.wav")

    def stored(self, waited: Waited) -> list[StatusAnnouncement]:
        with open_store(self.db_url) as store:
            return [a for a in store.status_announcements(datetime(2000, 1, 1, tzinfo=UTC),
                                                          datetime(2100, 1, 1, tzinfo=UTC))
                    if a.uniqueid == waited.uniqueid]

    def onsets(self, waited: Waited) -> list[float]:
        return waited.heard().find(read_prompt(self.prompt(waited.language)))


async def _joined(log: AmiLog, waited: Waited) -> None:
    join = await log.wait_for(lambda e: e.event == "QueueCallerJoin"
                              and e.get("calleridnum") == waited.number, 20,
                              f"{waited.number} to join the front desk")
    waited.uniqueid = join["uniqueid"]


def _answer_time(log: AmiLog, waited: Waited) -> float:
    connect = next(e for e in log.events if e.event == "AgentConnect"
                   and e.get("uniqueid") == waited.uniqueid)
    return float(connect["timestamp"])


@pytest.fixture(scope="module")
async def run(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Run]:
    config = lab.config
    ami = AmiClient(port=config.ports.ami, username=config.ami_user, secret=config.ami_secret)
    await ami.connect()
    log = AmiLog(ami)
    task = asyncio.create_task(log.run())
    db_url = f"sqlite:///{tmp_path_factory.mktemp('front-desk-status') / 'monitor.db'}"
    monitor = MonitorRun(lab, db_url, mqtt=False, queue_log=False, read_only_ami=True)
    await asyncio.to_thread(monitor.start)
    for language, line in LINES.items():
        await ami.action("Setvar", Variable=f"LINE_LANGUAGE_{line}", Value=language)
    the_run = Run(lab=lab, log=log, monitor=monitor, db_url=db_url, busy=[])
    try:
        await _busy_front_desk(the_run)
        await _ringing_front_desk(the_run)
        yield the_run
    finally:
        for line in LINES.values():
            await ami.action("Setvar", Variable=f"LINE_LANGUAGE_{line}", Value="")
        await asyncio.to_thread(monitor.stop)
        task.cancel()
        await ami.close()


async def _busy_front_desk(run: Run) -> None:
    """Receptionist 101 talks to another caller for OCCUPIED s while a Malay and an English
    caller wait; then it answers each in turn."""
    async with sip_phones(run.lab) as phones:
        await phones.use_front_desk(["101"], strategy="ringall")
        desk = phones.receptionist("101", Answer(after=1, talk=OCCUPIED),
                                   Answer(after=2, talk=3), Answer(after=2, talk=3))
        other = await phones.call_in("0320000000", name="Other Caller", patience=OCCUPIED + 30)
        await run.log.wait_for(lambda e: e.event == "AgentConnect"
                               and e.get("calleridnum") == "0320000000", 20,
                               "the receptionist to take the other call")
        for n, language in enumerate(LINES):
            number = f"032000000{n + 1}"
            call = await phones.call_in(number, name=f"Pemanggil {language}",
                                        dialled=LINES[language], patience=OCCUPIED + 60)
            waited = Waited(language, number, call)
            await _joined(run.log, waited)
            run.busy.append(waited)
            await asyncio.sleep(1.3)  # apart, so their messages do not start together
        for waited in run.busy:
            await waited.call.finished(OCCUPIED + 60)
            waited.answered_at = _answer_time(run.log, waited)
        await other.finished(30)
        await phones.finished(30)
        _rang(run.busy, desk)


async def _ringing_front_desk(run: Run) -> None:
    """Receptionist 101's phone rings 15 s and is not answered, three times; then it answers."""
    async with sip_phones(run.lab) as phones:
        await phones.use_front_desk(["101"], strategy="ringall", ring_timeout=15)
        desk = phones.receptionist("101", NoAnswer(), NoAnswer(), NoAnswer(),
                                   Answer(after=2, talk=3))
        call = await phones.call_in("0320000009", name="Pemanggil en", dialled=LINES["en"],
                                    patience=120)
        waited = Waited("en", "0320000009", call)
        await _joined(run.log, waited)
        await call.finished(120)
        waited.answered_at = _answer_time(run.log, waited)
        await phones.finished(30)
        _rang([waited], desk)
        run.rang = waited


def _rang(callers: list[Waited], desk: Phone) -> None:
    """When the receptionist's phone received each INVITE for these callers (its SIPp's
    message trace, on the host clock their audio is timed on)."""
    invites = desk.invites()
    for waited in callers:
        waited.rang_at = [i.at for i in invites if i.caller == waited.number]


def _within_standard(intervals: list[float]) -> bool:
    return all(abs(i - STANDARD) <= TOLERANCE for i in intervals)


def _figures(intervals: list[float]) -> str:
    return (f"min {min(intervals):.3f} median {statistics.median(intervals):.3f} "
            f"max {max(intervals):.3f} s (n={len(intervals)})")


def test_the_monitor_measured_each_message_every_20_s_from_ami_alone(run: Run) -> None:
    for waited in run.busy:
        stored = run.stored(waited)
        intervals = [a.interval_seconds for a in stored]
        assert len(stored) == 3, f"{waited.language}: {intervals}"  # the answer is no message
        assert intervals[0] is None
        measured = [i for i in intervals if i is not None]
        assert _within_standard(measured), f"{waited.language}: {measured}"
        assert all(a.queue == "frontdesk" and a.department == "" for a in stored)
        assert all(a.announced_at.timestamp() < waited.answered_at for a in stored)
        print(f"\nfront desk, {waited.language}, AMI: {_figures(measured)}")
    value = run.monitor.value
    assert value(f"{INTERVAL}_bucket", **FRONT_DESK, le="19.5") == 0
    assert value(f"{INTERVAL}_bucket", **FRONT_DESK, le="20.5") == 4  # the late one is not


def test_each_caller_heard_the_status_message_every_20_s_in_their_language(run: Run) -> None:
    for waited in run.busy:
        heard = waited.heard()
        prompt = read_prompt(run.prompt(waited.language))
        starts = heard.find(prompt)
        audio = [b - a for a, b in itertools.pairwise(starts)]
        assert len(starts) == 3, f"{waited.language}: heard at {starts}"
        assert _within_standard(audio), f"{waited.language}: {audio}"
        # the same messages the monitor measured: the PBX's stop and the first packet heard
        stored = [a.announced_at.timestamp() for a in run.stored(waited)]
        assert [round(s - a, 1) for s, a in zip(starts, stored, strict=True)] == [0.0] * 3
        other = "en" if waited.language == "ms" else "ms"
        assert heard.best_match(read_prompt(run.prompt(other))) < MATCH, (
            f"{waited.language} caller heard the {other} prompt")
        print(f"\nfront desk, {waited.language}, audio: {_figures(audio)}, "
              f"correlation {heard.best_match(prompt):.3f} at best")


def test_the_messages_go_on_until_the_receptionists_phone_rings_and_stop_there(
        run: Run) -> None:
    """In each waiting caller's RTP, against the INVITE that rang 101's phone for them: the
    last message began within 20.5 s before it, and none (in either language) after it."""
    for waited in [*run.busy, *([run.rang] if run.rang else [])]:
        assert waited.rang_at, f"101's phone never rang for {waited.number}"
        rang = waited.rang_at[-1]  # the ring that was answered
        assert rang < waited.answered_at
        starts = run.onsets(waited)
        print(f"\nfront desk, {waited.language}: last message began "
              f"{rang - starts[-1]:.3f} s before 101's phone got the INVITE")
        assert starts[-1] < rang <= starts[-1] + STANDARD + TOLERANCE, (starts, rang)
        heard = waited.heard()
        for language in LINES:
            after = heard.best_match(read_prompt(run.prompt(language)), after=rang)
            assert after < MATCH, f"{waited.language} caller, {language} prompt after the ring"


def test_a_ringing_phone_holds_the_message_back_and_the_monitor_counts_it_late(
        run: Run) -> None:
    assert run.rang is not None
    stored = run.stored(run.rang)
    starts = run.onsets(run.rang)
    assert len(stored) == len(starts) == 2, (stored, starts)
    ring_ends = sorted(float(e["timestamp"]) for e in run.log.events
                       if e.event == "AgentRingNoAnswer" and e.get("uniqueid") == run.rang.uniqueid)
    # each message started right after a ring ended, not 20 s after the previous one
    for message in stored:
        assert any(0.9 <= message.announced_at.timestamp() - end <= 1.5 for end in ring_ends)
    # ... and in the caller's audio: none began while 101's phone rang (INVITE to ring's end).
    for invite, end in zip(run.rang.rang_at, ring_ends, strict=False):
        assert not [s for s in starts if invite <= s <= end], (invite, end, starts)
    late = stored[1].interval_seconds
    assert late is not None
    assert late > STANDARD + 1.0
    assert starts[1] - starts[0] == pytest.approx(late, abs=0.1)
    assert run.monitor.value(f"{INTERVAL}_count", **FRONT_DESK) == 5
    assert run.monitor.value(f"{INTERVAL}_bucket", **FRONT_DESK, le="21.0") == 4
    first = stored[0].waited_seconds
    print(f"\nfront desk, phone ringing unanswered: first message after {first:.3f} s, "
          f"interval {late:.3f} s (audio {starts[1] - starts[0]:.3f} s)")


def test_a_restarted_monitor_has_the_same_histogram_from_its_store(run: Run) -> None:
    def front_desk() -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        wanted = (f"{INTERVAL}_bucket", f"{INTERVAL}_count", f"{INTERVAL}_sum")
        return {key: value for key, value in run.monitor.samples().items()
                if key[0] in wanted and ("queue", "frontdesk") in key[1]}

    before = front_desk()
    assert run.monitor.value(f"{INTERVAL}_count", **FRONT_DESK) == 5
    run.monitor.stop()
    run.monitor.start()
    after = front_desk()
    assert after.keys() == before.keys()
    for key, value in before.items():
        assert after[key] == pytest.approx(value, abs=1e-6), key

