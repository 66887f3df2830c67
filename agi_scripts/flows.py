"""The officer call flows (T-d … T-h): announce, wait with status every 20 s, ring, return, message.

`officer_call` runs for every call put through to an officer, whether a receptionist
transferred it or the caller dialled the extension. It leaves `CALLSLA_NEXT` on the channel:
`hangup` when the call is over, `returned` when the dialplan must take the caller back to the
front desk (with `CALLSLA_RETURN_REASON`). A crash leaves it unset, and the dialplan's fallback
takes the caller to the front desk as well.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from agi_scripts.agi import AgiSession, CallerHungUp, printable, quote
from agi_scripts.held_caller import held_caller, whisper
from agi_scripts.interrupter import PromptInterrupter
from agi_scripts.officer_line import UNREACHABLE_DEVICE_STATES, OfficerLine, OfficerLines
from agi_scripts.outbox import Outbox
from agi_scripts.prompts import LANGUAGES, status_message, transfer_announcement
from agi_scripts.voicemail import message_details
from monitor.core import events
from monitor.core.charter import Charter
from monitor.core.dialplan import OFFICER_WAIT_VARIABLE
from monitor.core.directory import (
    ASTDB_FAMILY,
    Directory,
    Officer,
    OfficerStatus,
    directory_path,
    load_directory,
    status_key,
)

log = logging.getLogger(__name__)
# The first in line takes the officer; the second is first as soon as they do: both check at
# poll_seconds. Further back, far_poll_seconds.
NEAR_POSITIONS = 2
_CALLER_TEXT = re.compile(r"[^\w .,@+'()/-]", re.UNICODE)


def clean_caller_text(value: str, limit: int = 40) -> str:
    """Caller ID as a record may keep it: one line, no quotes, pipes or `$`, at most `limit`."""
    return _CALLER_TEXT.sub(" ", value).strip()[:limit]


@dataclass(frozen=True)
class FlowSettings:
    pbx: str
    charter: Charter
    directory_file: Path | None = None
    voicemail_spool: Path | None = None  # the PBX's spool/voicemail, when this host can read it
    voicemail_context: str = "callsla"
    poll_seconds: float = 0.5  # how often the first caller checks that the officer is free
    # Callers behind the second in line cannot be next before the two ahead of them have gone:
    # they wake this often only to keep their place fresh: a fourth of the WAIT FOR DIGITs
    # (bench/bench_waiting_callers.py: 0.83-1.02 AGI commands a waiting caller-second, from
    # 1.1-1.25 with every caller at poll_seconds).
    far_poll_seconds: float = 2.0
    expected_service_seconds: float = 60.0  # per caller ahead, for the service-recovery offer


@dataclass
class Call:
    """What one call's flow knows about its caller; caller text already cleaned."""

    session: AgiSession
    uniqueid: str
    linkedid: str
    caller_number: str
    caller_name: str
    language: str
    prompts: str
    officer: Officer
    device: str = ""  # the officer's device as Asterisk names it, e.g. PJSIP/2101
    waiting_since: float = 0.0  # loop time the caller started waiting for the officer


class CallFlows:
    """The call-flow scripts, registered on the FastAGI server by name."""

    def __init__(self, settings: FlowSettings, outbox: Outbox | None,
                 lines: OfficerLines | None = None,
                 interrupter: PromptInterrupter | None = None, *,
                 clock: Callable[[], float] | None = None) -> None:
        self.settings = settings
        self.outbox = outbox
        self.lines = lines or OfficerLines()
        self.interrupter = interrupter or PromptInterrupter(None)
        self._directory: tuple[float, Directory] | None = None
        # Monotonic seconds for waits and intervals; the event loop's clock unless a test's.
        self._clock = clock

    def directory(self) -> Directory:
        """Re-read when the file changes: an edited directory takes effect on the next call."""
        path = self.settings.directory_file
        mtime = directory_path(path).stat().st_mtime
        if self._directory is None or self._directory[0] != mtime:
            self._directory = (mtime, load_directory(path))
        return self._directory[1]

    def monotonic(self) -> float:
        return self._clock() if self._clock is not None else asyncio.get_running_loop().time()

    def now(self) -> datetime:
        return datetime.now(self.settings.charter.timezone)

    def publish(self, event_type: type[events.CallEvent], call: Call | None,
                **fields: object) -> None:
        if self.outbox is None:
            return
        common: dict[str, object] = {"pbx": self.settings.pbx, "timestamp": self.now()}
        if call is not None:
            common.update(call_id=call.linkedid, uniqueid=call.uniqueid,
                          department=call.officer.department, officer=call.officer.extension)
        self.outbox.put(event_type(**{**common, **fields}))  # type: ignore[arg-type]

    async def officer_call(self, session: AgiSession) -> None:
        extension = re.sub(r"\D", "", session.arg(1))[:8]
        await session.set_variable("CALLSLA_NEXT", "returned")
        directory = self.directory()
        officer = directory.officer(extension)
        prompts = await session.get_variable("${CALLSLA_PROMPTS}") or "callsla"
        line_language = await session.get_variable("${CHANNEL(language)}")
        if officer is None:
            log.info("no officer at extension %s", printable(session.arg(1)))
            language = line_language if line_language in LANGUAGES else "ms"
            await session.command(f"STREAM FILE {quote(f'{prompts}/{language}/unknown_extension')}"
                                  ' ""')
            await session.set_variable("CALLSLA_RETURN_REASON", "unknown_extension")
            return
        call = Call(
            session=session, uniqueid=session.env.get("uniqueid", ""),
            linkedid=await session.get_variable("${CHANNEL(linkedid)}"),
            caller_number=clean_caller_text(session.env.get("callerid", ""), 32),
            caller_name=clean_caller_text(session.env.get("calleridname", "")),
            language=line_language if line_language in LANGUAGES else officer.language,
            prompts=prompts, officer=officer)
        await session.command("ANSWER")
        status = await self._officer_status(session, officer)
        if status is not OfficerStatus.IN:
            await self.play(call, ["officer_out" if status is OfficerStatus.OUT
                                   else "officer_leave"])
            await self.take_message(call)
            return
        if await self._device_state(call) in UNREACHABLE_DEVICE_STATES:
            log.info("officer %s: phone unreachable; taking a message", officer.extension)
            await self.play(call, ["officer_unavailable"])
            await self.take_message(call)
            return
        # The leg's answer wait starts here, announcement included (docs/architecture.md);
        # the marker tells the monitor so, by AMI alone.
        call.waiting_since = self.monotonic()
        await session.set_variable(OFFICER_WAIT_VARIABLE, officer.extension)
        announcement = transfer_announcement(officer.extension, officer.department)
        await self._announce_to_held_caller(call, announcement)
        await self.play(call, announcement)
        self.publish(events.TransferAnnounced, call, officer_name=officer.name,
                     language=call.language)
        line = self.lines[officer.extension]
        try:
            outcome = await self.wait_for_officer(call, line)
            if outcome == "dial":
                await self.ring_officer(call)
            elif outcome == "1":
                await self.take_message(call)
            else:
                await self.play(call, ["to_front_desk"])
                await session.set_variable("CALLSLA_RETURN_REASON", "caller_choice")
        finally:
            line.leave(call.uniqueid)

    async def _announce_to_held_caller(self, call: Call, files: list[str]) -> None:
        """An attended transfer: the caller the receptionist holds hears the announcement too,
        in their own line's language (the receptionist hears it on the consult)."""
        held = await held_caller(call.session)
        if not held:
            return
        language = await call.session.get_variable(f"${{IMPORT({held},CHANNEL(language))}}")
        if language not in LANGUAGES:
            language = call.language
        await whisper(call.session, held, [f"{call.prompts}/{language}/{name}" for name in files])

    async def _officer_status(self, session: AgiSession, officer: Officer) -> OfficerStatus:
        """AstDB `callsla/officer/<ext>/status` (`callsla officer set-status`) beats the file."""
        reply = await session.command(
            f"DATABASE GET {ASTDB_FAMILY} {quote(status_key(officer.extension))}")
        try:
            return OfficerStatus(reply.data) if reply.result == "1" else officer.status
        except ValueError:
            return officer.status

    async def play(self, call: Call, files: list[str], *, escape: str = "",
                   line: OfficerLine | None = None) -> str:
        """Play prompt files in turn; return a key pressed, or `!` if the officer came free."""
        for name in files:
            command = f"STREAM FILE {quote(f'{call.prompts}/{call.language}/{name}')} " \
                f"{quote(escape)}"
            if line is None:
                result = await call.session.command(command)
            elif await self._officer_free(call, line):
                return "!"
            else:
                async with self.interrupter.watching(
                        call.session.env.get("channel", ""), call.device,
                        lambda: line.may_take(call.uniqueid, "NOT_INUSE")):
                    result = await call.session.command(command)
            if result.digit:
                return result.digit
        return ""

    async def _officer_free(self, call: Call, line: OfficerLine) -> bool:
        if line.engaged_by is not None or line.position(call.uniqueid) != 1:
            return False
        return line.may_take(call.uniqueid, await self._device_state(call))

    async def _device_state(self, call: Call) -> str:
        if not call.device:
            call.device = (await call.session.get_variable("${OFFICER_DEVICE_PREFIX}")
                           or "PJSIP/") + call.officer.extension
        return await call.session.get_variable(f"${{DEVICE_STATE({call.device})}}")

    async def wait_for_officer(self, call: Call, line: OfficerLine) -> str:
        """T-f: wait for a busy officer; a status message at start + n x 20 s until served.

        Returns `dial` (our turn, the officer is free), `1` (leave a message) or `0`.
        """
        session = call.session
        line.join(call.uniqueid)
        interval = self.settings.charter.status_interval_seconds
        joined = call.waiting_since or self.monotonic()
        if await self._officer_free(call, line):
            line.take(call.uniqueid)
            return "dial"
        await self.play(call, ["officer_busy"])
        first = self.monotonic()  # status messages at first + n x interval, n = 0, 1, 2 ...
        announced = 0
        previous: float | None = None
        while True:
            if await self._officer_free(call, line):
                line.take(call.uniqueid)
                return "dial"
            now = self.monotonic()
            due = first + announced * interval
            if now >= due - 0.002:
                key = await self._status(call, line, joined, now, previous)
                previous, announced = now, announced + 1
                if key == "!":
                    continue
                if key in ("1", "0"):
                    self.publish(events.CallerChoice, call, choice=key, where="waiting")
                    return key
                await session.command("SET MUSIC ON default")
                continue
            poll = (self.settings.poll_seconds if line.position(call.uniqueid) <= NEAR_POSITIONS
                    else self.settings.far_poll_seconds)
            wait_ms = max(1, int(min(poll, due - now) * 1000))
            digit = (await session.command(f"WAIT FOR DIGIT {wait_ms}")).digit
            if digit in ("1", "0"):
                self.publish(events.CallerChoice, call, choice=digit, where="waiting")
                return digit

    async def _status(self, call: Call, line: OfficerLine, started: float, now: float,
                      previous: float | None) -> str:
        position = max(line.position(call.uniqueid), 1)
        waited = now - started
        expected = waited + position * self.settings.expected_service_seconds
        recovery = expected > self.settings.charter.max_wait_seconds
        self.publish(events.StatusAnnounced, call, position=position, waited_seconds=waited,
                     interval_seconds=None if previous is None else now - previous)
        await call.session.command("SET MUSIC OFF")
        files = status_message(position, waited, recovery=recovery)
        return await self.play(call, files, escape="10", line=line)

    async def ring_officer(self, call: Call) -> None:
        """Ring for the charter's ring time; unanswered goes back to the front desk (T-g)."""
        session, ring = call.session, self.settings.charter.transfer_ring_seconds
        device = (await session.get_variable("${OFFICER_DIAL_PREFIX}") or "PJSIP/") \
            + call.officer.extension + await session.get_variable("${OFFICER_DIAL_SUFFIX}")
        await session.command("SET MUSIC OFF")
        started = self.monotonic()
        await session.execute("Dial", device, f"{ring:g}")
        rang = self.monotonic() - started
        dial_status = await session.get_variable("${DIALSTATUS}")
        if dial_status == "ANSWER":
            await session.set_variable("CALLSLA_NEXT", "hangup")
            return
        log.info("officer %s did not answer (%s) after %.1f s; back to the front desk",
                 call.officer.extension, printable(dial_status), rang)
        self.publish(events.TransferReturned, call, ring_seconds=rang)
        await session.set_variable("CALLSLA_RETURN_REASON", "no_answer")
        await self.play(call, ["not_answering"])

    async def take_message(self, call: Call) -> None:
        """T-h: voicemail for the officer, then a callback record (help desk a-f)."""
        session, box = call.session, f"{call.officer.mailbox}@{self.settings.voicemail_context}"
        await session.set_variable("CALLSLA_NEXT", "hangup")
        await self.play(call, ["leave_message"])
        before = int(await session.get_variable(f"${{VM_INFO({box},count)}}") or 0)
        started = self.monotonic()
        # Hanging up is the usual way a message ends; the dead channel still answers GET VARIABLE.
        with contextlib.suppress(CallerHungUp):
            await session.execute("VoiceMail", box, "s")
        took = self.monotonic() - started
        after = int(await session.get_variable(f"${{VM_INFO({box},count)}}") or 0)
        if after <= before:
            log.info("caller %s left no message for %s", call.uniqueid, box)
            return
        message_id, duration = message_details(
            self.settings.voicemail_spool, self.settings.voicemail_context, call.officer.mailbox,
            before, took)
        self.publish(events.VoicemailLeft, call, mailbox=call.officer.mailbox,
                     message_id=message_id, duration_seconds=duration)
        now = self.now()
        self.publish(events.CallbackCreated, call, callback_id=str(uuid.uuid4()),
                     caller_number=call.caller_number, caller_name=call.caller_name,
                     matter=f"voicemail {message_id} for {call.officer.name}",
                     due_at=now + timedelta(hours=self.settings.charter.callback_due_hours))
        if not session.hung_up.is_set():
            await self.play(call, ["message_thanks"])
