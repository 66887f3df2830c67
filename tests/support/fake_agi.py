"""A scripted Asterisk channel on the far side of a real `AgiSession`, with a clock it moves.

The call flows talk AGI over a socket pair to `FakeChannel`, which answers each command as
Asterisk would for the scenario a test sets up (the officer's device state over time, what the
caller presses during which prompt, how a Dial or VoiceMail ends) and advances `FakeClock` by
the time the command would take on a real PBX. Every command is kept, in order, for asserts.
"""

from __future__ import annotations

import asyncio
import re
import shlex
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from agi_scripts.agi import AgiSession
from agi_scripts.outbox import Outbox
from monitor.core.events import CallEvent


@dataclass
class FakeClock:
    """Monotonic seconds that move only when the fake PBX says a command took time."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


class EventList(Outbox):
    """An outbox that keeps the events in a list (and still writes them, like the real one)."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.events: list[CallEvent] = []

    def put(self, event: CallEvent) -> Path:
        self.events.append(event)
        return super().put(event)

    def of(self, kind: type[CallEvent]) -> list[CallEvent]:
        return [e for e in self.events if isinstance(e, kind)]


@dataclass
class FakeChannel:
    """One caller's channel as the PBX side of AGI sees it."""

    clock: FakeClock
    env: dict[str, str]
    variables: dict[str, str] = field(default_factory=dict)
    astdb: dict[str, str] = field(default_factory=dict)
    # The officer's device state at a given clock time (the `DEVICE_STATE()` function).
    device_state: Callable[[float], str] = lambda _t: "NOT_INUSE"
    # Called with the clock after every command: what else happens on the PBX meanwhile.
    meanwhile: Callable[[float], None] = lambda _t: None
    # A prompt name (last path part) -> the key the caller presses while it plays.
    keys_on_prompt: dict[str, str] = field(default_factory=dict)
    # Clock times at which the caller presses a key during `WAIT FOR DIGIT`.
    keys_at: dict[float, str] = field(default_factory=dict)
    prompt_seconds: float = 0.5
    dial_status: str = "ANSWER"
    dial_seconds: float = 3.0
    message_seconds: float | None = 12.0  # None: the caller leaves no message
    hang_up_after_message: bool = True
    hang_up_at: float | None = None  # the caller hangs up once the clock reaches this
    voicemail_count: int = 0
    commands: list[str] = field(default_factory=list)
    command_times: list[float] = field(default_factory=list)  # the clock when each came
    played: list[str] = field(default_factory=list)
    hung_up: bool = False

    async def open(self) -> AgiSession:
        """The AGI session the flows use, its environment already sent."""
        ours, theirs = socket.socketpair()
        reader, writer = await asyncio.open_connection(sock=ours)
        self._reader, self._writer = await asyncio.open_connection(sock=theirs)
        block = "".join(f"agi_{k}: {v}\n" for k, v in self.env.items()) + "\n"
        self._writer.write(block.encode())
        session = AgiSession(reader, writer)
        await session.start()
        self._task = asyncio.create_task(self._serve())
        return session

    async def close(self, session: AgiSession) -> None:
        await session.close()
        self._writer.close()
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _serve(self) -> None:
        while raw := await self._reader.readline():
            text = raw.decode().rstrip("\n")
            self.commands.append(text)
            self.command_times.append(self.clock.now)
            replies = self.answer(text)
            self.meanwhile(self.clock.now)
            for line in replies:
                self._writer.write(line.encode() + b"\n")
            await self._writer.drain()

    def answer(self, text: str) -> list[str]:
        if self.hang_up_at is not None and self.clock.now >= self.hang_up_at:
            if self.hung_up:
                return ["511 Command Not Permitted on a dead channel or intercept routine"]
            self.hung_up = True
            return ["HANGUP", "511 Command Not Permitted on a dead channel or intercept routine"]
        _verb, *args = shlex.split(text)
        if text.startswith("GET FULL VARIABLE "):
            value = self.evaluate(args[2])
            return ["200 result=0"] if value is None else [f"200 result=1 ({value})"]
        if text.startswith("SET VARIABLE "):
            self.variables[args[1]] = args[2]
            return ["200 result=1"]
        if text.startswith("DATABASE GET "):
            key = f"{args[1]}/{args[2]}"
            return [f"200 result=1 ({self.astdb[key]})"] if key in self.astdb else ["200 result=0"]
        if text.startswith("STREAM FILE "):
            self.played.append(args[1])
            self.clock.now += self.prompt_seconds
            key = self.keys_on_prompt.pop(args[1].rsplit("/", 1)[-1], "")
            if key and key in args[2]:
                return [f"200 result={ord(key)} endpos=4000"]
            return ["200 result=0 endpos=8000"]
        if text.startswith("WAIT FOR DIGIT "):
            return [self._wait_for_digit(int(args[2]) / 1000)]
        if text.startswith("EXEC "):
            return self._execute(args[0], args[1].split(","))
        if text in ("ANSWER", "SET MUSIC OFF", "SET MUSIC ON default"):
            return ["200 result=0"]
        return ["510 Invalid or unknown command"]

    def _wait_for_digit(self, seconds: float) -> str:
        end = self.clock.now + seconds
        pressed = sorted(t for t in self.keys_at if self.clock.now <= t < end)
        if pressed:
            self.clock.now = pressed[0]
            return f"200 result={ord(self.keys_at.pop(pressed[0]))}"
        self.clock.now = end
        return "200 result=0"

    def _execute(self, app: str, args: list[str]) -> list[str]:
        if app == "Dial":
            self.clock.now += min(self.dial_seconds, float(args[1]))
            self.variables["DIALSTATUS"] = self.dial_status
            return ["200 result=0"]
        if app == "VoiceMail":
            if self.message_seconds is None:
                self.clock.now += 2.0
                return ["200 result=0"]
            self.clock.now += self.message_seconds
            self.voicemail_count += 1
            if self.hang_up_after_message:
                self.hung_up = True
                return ["HANGUP", "200 result=-1"]
            return ["200 result=0"]
        return ["200 result=0"]

    def evaluate(self, expression: str) -> str | None:
        """`${NAME}` or the few functions the flows read."""
        inner = expression.removeprefix("${").removesuffix("}")
        if re.fullmatch(r"DEVICE_STATE\((.+)\)", inner):
            return self.device_state(self.clock.now)
        if re.fullmatch(r"VM_INFO\((.+),count\)", inner):
            return str(self.voicemail_count)
        if match := re.fullmatch(r"CHANNEL\((\w+)\)", inner):
            return self.variables.get(f"CHANNEL({match.group(1)})")
        return self.variables.get(inner)

    def sent(self, prefix: str) -> list[str]:
        return [c for c in self.commands if c.startswith(prefix)]

    def sent_at(self, prefix: str) -> list[float]:
        """When each command `sent(prefix)` lists came, on the fake clock."""
        return [t for c, t in zip(self.commands, self.command_times, strict=True)
                if c.startswith(prefix)]
