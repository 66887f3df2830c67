"""SIPp phones and callers for the lab: start them, wait for their scenarios, leave nothing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shlex
import shutil
import signal
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from lab.processes import ManagedProcess
from lab.sip import phonebook, scenarios
from lab.sip.frontdesk import restore_front_desk, use_sip_front_desk
from lab.sip.heard import HeardAudio
from lab.sip.leftovers import kill_leftover_phones, sip_run_dir
from lab.sip.message_trace import SIPP_ENV, ReceivedInvite, received_invites
from lab.sip.rtp import RtpRecorder
from lab.sip.scenarios import (
    AttendedTransfer,
    Behaviour,
    CallerSpec,
    Dtmf,
    Place,
)
from lab.stack import Lab
from monitor.ami import AmiClient, AmiError

log = logging.getLogger(__name__)

SIPP = "sipp"
SIPP_TIMEOUT_SECONDS = 900  # a scenario for a number of calls still running after this failed
TRUNK = "trunk"  # lab/asterisk_local/pjsip.conf: the PSTN gateway into from-pstn
# SIPp's exit codes (sipp(1)): 0 every call succeeded, 1 at least one failed, 97 stopped by
# command, 99 normal exit without calls processed, 255 fatal error, 254 could not bind.
MESSAGE_TRACE = "messages.log"  # in each run's folder: every SIP message, time-stamped
SIPP_EXIT = {0: "all calls succeeded", 1: "a call failed", 97: "stopped by command",
             99: "exited with no call processed", 255: "fatal error",
             254: "could not bind its socket"}


class ScenarioError(AssertionError):
    """A SIPp scenario ended badly (or not in time); the message says which and why."""


@dataclass
class SippRun:
    """One SIPp process running one scenario; `finished()` waits and reports its exit."""

    name: str
    folder: Path
    process: ManagedProcess
    ports: phonebook.PhonePorts
    expect_calls: int | None  # None: a phone that serves calls until it is stopped
    followers: list[Path] = field(default_factory=list)  # rc files of SIPps this one starts

    @property
    def returncode(self) -> int | None:
        proc = self.process.process
        return None if proc is None else proc.poll()

    def why(self) -> str:
        """The scenario's own account of a failure: its error log, then its output."""
        parts = []
        for path in (self.folder / "errors.log", self.process.logfile):
            with contextlib.suppress(OSError):
                # SIPp logs every planned timeout ("jumping to label") as an error: skip those.
                lines = [line for line in path.read_text(errors="replace").splitlines()
                         if line.strip() and "jumping to label" not in line
                         and "The following events occurred" not in line]
                if lines:
                    parts.append(f"{path.name}: " + " | ".join(lines[-6:]))
        return "; ".join(parts) or "no log"

    def listening(self) -> bool:
        """Its SIP port is bound (read from /proc: a probe bind could take it from SIPp)."""
        return _udp_bound(self.ports.sip)

    async def finished(self, timeout: float = 60.0) -> None:
        """Wait for the scenario to end; raise ScenarioError unless every call succeeded.
        A phone that serves until stopped is finished when it is still there to serve."""
        if self.expect_calls is None:
            if self.returncode is not None:
                raise ScenarioError(f"{self.name}: a phone serving until stopped exited "
                                     f"{self.returncode}: {self.why()}")
            return
        deadline = time.monotonic() + timeout
        while self.returncode is None:
            if time.monotonic() > deadline:
                raise ScenarioError(f"{self.name}: still running after {timeout:g} s "
                                     f"({self.why()})")
            await asyncio.sleep(0.1)  # a child process: nothing to await but its exit
        code = self.returncode
        if code != 0:
            raise ScenarioError(f"{self.name}: SIPp exit {code} "
                                 f"({SIPP_EXIT.get(code & 0xFF, '?')}): {self.why()}")
        for rc_file in self.followers:
            while not rc_file.exists():
                if time.monotonic() > deadline:
                    raise ScenarioError(f"{self.name}: its second line ({rc_file.parent.name}) "
                                         f"still running after {timeout:g} s")
                await asyncio.sleep(0.1)
            text = rc_file.read_text().strip()
            if text != "0":
                raise ScenarioError(f"{self.name}: its second line {rc_file.parent.name} "
                                     f"exited {text}: see {rc_file.parent}")

    def invites(self) -> list[ReceivedInvite]:
        """The INVITEs this run received, timed on the host clock (its message trace, whole
        once SIPp has exited)."""
        return received_invites(self.folder / MESSAGE_TRACE)

    def stop(self) -> None:
        pid = self.process.process.pid if self.process.process is not None else None
        self.process.stop(timeout=3)
        if pid is not None:
            # The group outlives its leader when the scenario started a second line.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)


class Phone:
    """A receptionist's or officer's phone: one SIPp run per behaviour, in turn."""

    def __init__(self, extension: str, phones: SipPhones) -> None:
        self.extension = extension
        self.phones = phones
        self.first: SippRun | None = None
        self.later: list[SippRun] = []
        self.task: asyncio.Task[None] | None = None

    @property
    def runs(self) -> list[SippRun]:
        return ([self.first] if self.first is not None else []) + self.later

    async def run_rest(self, behaviours: Sequence[Behaviour]) -> None:
        previous = self.first
        for behaviour in behaviours:
            assert previous is not None
            await previous.finished(timeout=3600)
            previous = self.phones._phone_run(self.extension, behaviour, 1)
            self.later.append(previous)

    async def ready_for(self, call: int, timeout: float = 30.0) -> None:
        """Wait until the SIPp for this phone's `call`-th call (from 0, one per behaviour) is
        listening, so a call placed now rings it rather than a port nobody has bound yet."""
        deadline = time.monotonic() + timeout
        while len(self.runs) <= call or not self.runs[call].listening():
            if self.task is not None and self.task.done():
                self.task.result()  # a behaviour before it failed: say so
            if time.monotonic() > deadline:
                raise ScenarioError(f"phone {self.extension}: not ready for call {call} "
                                     f"after {timeout:g} s")
            await asyncio.sleep(0.05)  # a child process binding a port: nothing to await

    async def finished(self, timeout: float = 60.0) -> None:
        """Wait until every behaviour's call is over; raise ScenarioError on the first bad one."""
        deadline = time.monotonic() + timeout
        if self.task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self.task), timeout)
            except TimeoutError:
                running = self.runs[-1]
                raise ScenarioError(f"phone {self.extension}: {running.name} still running "
                                     f"after {timeout:g} s ({running.why()})") from None
        for run in self.runs:
            await run.finished(max(deadline - time.monotonic(), 0.1))

    def invites(self) -> list[ReceivedInvite]:
        """Every INVITE this phone received, whichever run took it, in the order received:
        when it rang, on the host clock a caller's audio is timed on."""
        return sorted((i for run in self.runs for i in run.invites()), key=lambda i: i.at)

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
        for run in self.runs:
            run.stop()


@dataclass
class Caller:
    """A customer's call over the trunk, and what they heard (RTP to `recording`)."""

    run: SippRun
    recorder: RtpRecorder
    spec: CallerSpec

    @property
    def recording(self) -> Path:
        return self.recorder.wav_path

    def heard(self) -> HeardAudio:
        """The audio received so far, decoded and timed (lab.sip.heard finds prompts in it)."""
        return HeardAudio.from_packets(self.recorder.packets)

    async def finished(self, timeout: float = 120.0) -> None:
        try:
            await self.run.finished(timeout)
        finally:
            self.recorder.close()


class SipPhones:
    """The lab's SIP phones: receptionists and officers as SIPp UAS processes on the ports
    pjsip.conf names, callers over the trunk and staff calls as SIPp UACs."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.config = lab.config
        self.folder = sip_run_dir(self.config)
        self.runs: list[SippRun] = []  # every SIPp started, phones' and calls'
        self.phones: list[Phone] = []
        self.callers: list[Caller] = []
        self._next_slot = iter(phonebook.dynamic_slots(self.config.ports))
        self._slot_users: dict[int, SippRun] = {}  # dynamic slot -> the SIPp last given it
        self._count = 0
        self.front_desk_changed = False

    # ---- phones that take calls ----

    def phone(self, extension: str, *behaviours: Behaviour, calls: int | None = 1) -> Phone:
        """Start `extension`'s phone: `behaviours` one after another, one call each (a single
        behaviour may take `calls` calls; None: every call until the phones stop). Each
        behaviour is one SIPp process on the phone's port; the next starts when the previous
        one's call is over."""
        if not behaviours:
            raise ValueError("a phone needs at least one behaviour")
        if calls is None and len(behaviours) > 1:
            raise ValueError("only a phone of one behaviour serves until stopped")
        phone = Phone(extension, self)
        phone.first = self._phone_run(extension, behaviours[0], calls if len(behaviours) == 1
                                      else 1)
        if len(behaviours) > 1:
            phone.task = asyncio.get_running_loop().create_task(
                phone.run_rest(behaviours[1:]))
        self.phones.append(phone)
        return phone

    def receptionist(self, extension: str, *behaviours: Behaviour,
                     calls: int | None = 1) -> Phone:
        if extension not in phonebook.RECEPTIONISTS:
            raise ValueError(f"{extension} is not a lab receptionist")
        return self.phone(extension, *behaviours, calls=calls)

    def officer(self, extension: str, *behaviours: Behaviour, calls: int | None = 1) -> Phone:
        if extension not in phonebook.OFFICERS or extension in phonebook.REGISTERING:
            raise ValueError(f"{extension} is not a lab officer with a static contact")
        return self.phone(extension, *behaviours, calls=calls)

    def _phone_run(self, extension: str, behaviour: Behaviour, calls: int | None) -> SippRun:
        ports = phonebook.phone_ports(self.config.ports, extension)
        name = self._name(f"phone-{extension}")
        place = self._place(extension, ports, self._fresh_folder(name))
        followers: list[Path] = []
        consult = ""
        if isinstance(behaviour, AttendedTransfer):
            consult, rc_file = self._consult_command(extension, behaviour, name)
            followers.append(rc_file)
        xml = scenarios.phone(place, behaviour, consult_command=consult)
        run = self._start(name, xml, ports, [] if calls is None else ["-m", str(calls)],
                          expect_calls=calls)
        run.followers = followers
        return run

    async def phones_listening(self, timeout: float = 30.0) -> None:
        """Wait until every phone's SIPp started and still running has bound its port. A call
        placed sooner rings a port nobody listens on yet: the phone gets only PJSIP's
        retransmission, 0.5 s later, and a phone timed against a Dial's timeout may then
        answer too late (one CI run: a bare `Dial(PJSIP/2101,4)` ended, cause 16, before the
        2101 started a moment earlier had answered)."""
        deadline = time.monotonic() + timeout
        for run in self.runs:
            while run.returncode is None and not run.listening():
                if time.monotonic() > deadline:
                    raise ScenarioError(f"{run.name}: its port {run.ports.sip} not bound "
                                         f"after {timeout:g} s ({run.why()})")
                await asyncio.sleep(0.05)  # a child process binding a port: nothing to await

    # ---- calls placed ----

    async def call_in(self, caller: str = "0312345678", *, name: str = "Lab Caller",
                      dialled: str = "1000", patience: float = 60.0,
                      keys: Sequence[Dtmf] = (), talks_from: float | None = None,
                      trunk: str = TRUNK, may_ring_out: bool = False) -> Caller:
        """A customer calls `dialled` over `trunk` and hangs up `patience` s after the
        PBX answers (unless the PBX hangs up first); what they hear is recorded. From
        `talks_from` s after the answer they talk (a message they leave has sound in it).
        With `may_ring_out`, the PBX ending the call unanswered is a call that went as
        planned."""
        spec = CallerSpec(number=caller, name=name, dialled=dialled, patience=patience,
                          keys=tuple(keys), may_ring_out=may_ring_out, talks_from=talks_from)
        await self.phones_listening()
        ports = phonebook.slot_ports(self.config.ports, self._take_slot())
        name_ = self._name(f"caller-{caller}")
        recorder = RtpRecorder(self.folder / f"{name_}-heard", ports.recorder)
        await recorder.open()
        place = self._place(trunk, ports, self._fresh_folder(name_))
        xml = scenarios.caller(place, spec)
        try:
            run = self._start(name_, xml, ports, self._uac_args(dialled), expect_calls=1)
        except Exception:
            recorder.close()
            raise
        call = Caller(run=run, recorder=recorder, spec=spec)
        self.callers.append(call)
        return call

    def calls_in(self, count: int, *, numbers: str, per_second: float, patience: float,
                 dialled: str = "1000", trunk: str = TRUNK) -> SippRun:
        """`count` customers call `dialled` over the trunk, `per_second` a second, from one
        SIPp: caller n (from 1) is `numbers` followed by n; each hangs up `patience` s after
        the PBX answers (unless it hangs up first). Nothing is recorded: for load, not for
        what a caller hears. One port slot however many calls (there are only so many)."""
        if count < 1 or per_second <= 0:
            raise ValueError(f"{count} calls at {per_second:g} a second")
        ports = phonebook.slot_ports(self.config.ports, self._take_slot())
        name = self._name(f"callers-{numbers}x{count}")
        place = replace(self._place(trunk, ports, self._fresh_folder(name)), recorder_port=0)
        # SIPp's own keyword: each call's number, so every caller has a number of its own.
        spec = CallerSpec(number=f"{numbers}[call_number]", dialled=dialled, patience=patience)
        args = [f"127.0.0.1:{self.config.ports.sip}", "-s", dialled, "-m", str(count),
                "-l", str(count), "-r", f"{per_second:g}", "-rp", "1000"]
        return self._start(name, scenarios.caller(place, spec), ports, args,
                           expect_calls=count)

    def call_from(self, extension: str, dialled: str, *, talk: float = 5.0,
                  keys: Sequence[Dtmf] = ()) -> SippRun:
        """A staff phone (e.g. receptionist 101) calls `dialled` and hangs up after `talk` s."""
        ports = phonebook.slot_ports(self.config.ports, self._take_slot())
        name = self._name(f"staff-{extension}-to-{dialled}")
        place = self._place(extension, ports, self._fresh_folder(name))
        xml = scenarios.internal_call(place, dialled, talk, keys)
        return self._start(name, xml, ports, self._uac_args(dialled), expect_calls=1)

    # ---- the PBX side of the variant ----

    async def use_front_desk(self, members: Sequence[str], *, strategy: str = "ringall",
                             ring_timeout: int = 15) -> None:
        """Make the front-desk queue ring these SIP phones (restored to the Local-channel
        members when the phones stop) and officers' calls dial PJSIP/<ext>."""
        assert self.lab.pbx is not None
        use_sip_front_desk(self.lab.pbx, members, strategy=strategy, ring_timeout=ring_timeout)
        self.front_desk_changed = True
        await self._set_officer_dialling(sip=True)

    async def _set_officer_dialling(self, *, sip: bool) -> None:
        values = ({"OFFICER_DIAL_PREFIX": "PJSIP/", "OFFICER_DIAL_SUFFIX": "",
                   "OFFICER_DEVICE_PREFIX": "PJSIP/"} if sip else
                  {"OFFICER_DIAL_PREFIX": "Local/o", "OFFICER_DIAL_SUFFIX": "@lab-phones/n",
                   "OFFICER_DEVICE_PREFIX": "Custom:o"})  # lab/asterisk_local/globals.conf
        async with AmiClient(port=self.config.ports.ami, username=self.config.ami_user,
                             secret=self.config.ami_secret, events=False) as ami:
            for variable, value in values.items():
                reply = await ami.action("Setvar", Variable=variable, Value=value)
                if not reply.succeeded:
                    raise AmiError(f"Setvar {variable}: {reply.get('message', '')}")

    # ---- life cycle ----

    async def finished(self, timeout: float = 120.0) -> None:
        """Wait for every phone and caller started so far; the first failure raises."""
        deadline = time.monotonic() + timeout
        for caller in self.callers:
            await caller.finished(max(deadline - time.monotonic(), 0.1))
        for phone in self.phones:
            await phone.finished(max(deadline - time.monotonic(), 0.1))
        for run in self.runs:
            await run.finished(max(deadline - time.monotonic(), 0.1))

    async def stop(self) -> None:
        for caller in self.callers:
            caller.recorder.close()
        for phone in self.phones:
            phone.stop()
        for run in self.runs:
            run.stop()
        kill_leftover_phones(self.config)
        if self.front_desk_changed and self.lab.pbx is not None:
            restore_front_desk(self.lab.pbx)
            await self._set_officer_dialling(sip=False)
            self.front_desk_changed = False

    # ---- helpers ----

    def _take_slot(self) -> int:
        """A dynamic port slot never handed out, else one whose SIPp has exited: a traffic
        generator (the demo) places more calls in a day than there are slots."""
        slot = next(self._next_slot, None)
        if slot is None:
            slot = next((n for n, run in self._slot_users.items()
                         if run.returncode is not None), None)
            if slot is None:
                raise ScenarioError("every SIPp port slot is in use")
            done = self._slot_users.pop(slot)
            for caller in self.callers:
                if caller.run is done:
                    caller.recorder.close()  # its port is the next user's
        return slot


    def _name(self, base: str) -> str:
        self._count += 1
        return f"{self._count:02d}-{base}"

    def _place(self, me: str, ports: phonebook.PhonePorts, work: Path | None = None) -> Place:
        return Place(me=me, sip_port=ports.sip, pbx_port=self.config.ports.sip,
                     recorder_port=ports.recorder, work=work)

    def _uac_args(self, dialled: str) -> list[str]:
        return [f"127.0.0.1:{self.config.ports.sip}", "-s", dialled, "-m", "1", "-l", "1"]

    def _fresh_folder(self, name: str) -> Path:
        folder = self.folder / name
        shutil.rmtree(folder, ignore_errors=True)  # names repeat from one block to the next
        folder.mkdir(parents=True)
        return folder

    def _start(self, name: str, xml: str, ports: phonebook.PhonePorts, extra: list[str],
               *, expect_calls: int | None) -> SippRun:
        folder = self.folder / name
        folder.mkdir(parents=True, exist_ok=True)
        xml_file = folder / "scenario.xml"
        xml_file.write_text(xml)
        process = ManagedProcess(name, self.folder)
        process.logfile.unlink(missing_ok=True)
        process.start(sipp_argv(folder, xml_file, ports, extra,
                                serves_until_stopped=expect_calls is None), env=SIPP_ENV)
        run = SippRun(name=name, folder=folder, process=process, ports=ports,
                      expect_calls=expect_calls)
        self.runs.append(run)
        slot = (ports.sip - self.config.ports.sip_phones) // phonebook.SLOT_SIZE
        if slot in phonebook.dynamic_slots(self.config.ports):
            self._slot_users[slot] = run
        return run

    def _consult_command(self, extension: str, behaviour: AttendedTransfer,
                         name: str) -> tuple[str, Path]:
        """The shell command the receptionist's SIPp runs to start its consult line, with
        the first call's dialog ids as SIPp keywords/variables (expanded by that SIPp)."""
        ports = phonebook.slot_ports(self.config.ports, self._take_slot())
        folder = self._fresh_folder(f"{name}-consult")
        xml_file = folder / "scenario.xml"
        xml_file.write_text(scenarios.consult_call(self._place(extension, ports), behaviour.to,
                                                   behaviour.consult))
        rc_file = folder / "rc"
        rc_file.unlink(missing_ok=True)
        argv = sipp_argv(folder, xml_file, ports, self._uac_args(behaviour.to))
        argv += ["-set", "a_callid", "$1", "-set", "a_pbxtag", "$2", "-set", "a_mytag", "$3"]
        quoted = " ".join(a if a.startswith("$") else shlex.quote(a) for a in argv)
        # SIPp passes an exec command's XML entities on undecoded (`&amp;` reaches sh as it
        # is), so the command is a script with no > & or quotes, run in the background.
        script = folder / "start.sh"
        script.write_text(f"({quoted} > {shlex.quote(str(folder / 'sipp.log'))} 2>&1; "
                          f"echo $? > {shlex.quote(str(rc_file))}) &\n")
        # Its arguments are this call's ids, filled in by the receptionist's SIPp.
        command = f"sh {script} [call_id] [$pbx_tag] [pid]SIPpTag01[call_number]"
        return command, rc_file


def sipp_argv(folder: Path, xml_file: Path, ports: phonebook.PhonePorts, extra: Sequence[str],
              *, serves_until_stopped: bool = False) -> list[str]:
    """One SIPp's command line, its traces in `folder`. A run for a number of calls fails if
    still running after `SIPP_TIMEOUT_SECONDS`; a phone that serves until stopped has no such
    limit (with it, the demo's and the soak's phones all hung up after 15 minutes)."""
    limit = [] if serves_until_stopped else ["-timeout", f"{SIPP_TIMEOUT_SECONDS:g}",
                                             "-timeout_error"]
    return [SIPP, *extra, "-sf", str(xml_file), "-i", "127.0.0.1", "-mi", "127.0.0.1",
            "-p", str(ports.sip), "-mp", str(ports.media), "-nostdin", "-aa",
            "-trace_msg", "-message_file", str(folder / MESSAGE_TRACE),
            "-trace_err", "-error_file", str(folder / "errors.log"),
            "-trace_logs", "-log_file", str(folder / "actions.log"),
            "-trace_screen", "-screen_file", str(folder / "screen.log"), *limit]


def _udp_bound(port: int) -> bool:
    """A UDP socket of this machine is bound to 127.0.0.1:`port` (/proc/net/udp)."""
    wanted = f"0100007F:{port:04X}"
    with contextlib.suppress(OSError), open("/proc/net/udp") as table:
        return any(line.split()[1] == wanted for line in list(table)[1:])
    return False


@contextlib.asynccontextmanager
async def sip_phones(lab: Lab) -> AsyncIterator[SipPhones]:
    """The lab's SIP phones for a block of a test; stopped (and the PBX's variant undone)
    however the block ends."""
    kill_leftover_phones(lab.config)
    phones = SipPhones(lab)
    try:
        yield phones
    finally:
        await phones.stop()
