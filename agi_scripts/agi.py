"""The AGI protocol over one stream (FastAGI socket or classic stdin/stdout), for asyncio.

Asterisk sends `HANGUP` on its own line when the caller hangs up, at any moment — also between
commands. A reader task keeps it apart from command results, so a hang-up is seen while the
script waits on the server's own clock (no command outstanding) and never desynchronises the
replies (panoramisk's FastAGI reads it as the next command's result; see docs/decisions.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass

from monitor.core.bad_input import BadInputLog

log = logging.getLogger(__name__)
# Shared by every session: a stream of sessions with bad lines logs one a minute, not each.
_bad_environment = BadInputLog(counter=None, pbx="", logger=log)

# Asterisk's environment is about 30 short lines (agi_arg_N adds one per argument); a caller
# name is at most 256 bytes. Anything far beyond is not Asterisk: the session ends.
MAX_ENV_LINES = 200
MAX_LINE_BYTES = 8192

_RESULT = re.compile(r"^(\d{3})(?:[ -]result=(-?\d*)(?: \((.*)\))?)?(.*)$")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\"\\]")


class AgiError(Exception):
    """Asterisk refused a command (5xx) or the connection broke."""


class AgiLimitExceeded(AgiError):  # noqa: N818 - named for what the peer did
    """The peer sent more, or longer, environment lines than Asterisk ever does."""


class CallerHungUp(AgiError):  # noqa: N818 - a hang-up is an outcome, named as one
    """The caller hung up; the script should stop talking to the channel and tidy up."""


@dataclass(frozen=True)
class AgiResult:
    code: int
    result: str
    data: str

    @property
    def digit(self) -> str:
        """For digit-reading commands: the key pressed, or '' for none."""
        try:
            value = int(self.result)
        except ValueError:
            return ""
        return chr(value) if value > 0 else ""


def quote(value: str) -> str:
    """One AGI argument in double quotes: control characters, quotes and backslashes removed."""
    return '"' + _UNSAFE.sub(" ", value) + '"'


def printable(value: str, limit: int = 80) -> str:
    """An untrusted value made safe for a log line: repr-escaped and cut to `limit` chars."""
    shown = ascii(value[:limit])
    return shown + ("…" if len(value) > limit else "")


class AgiSession:
    """One call's AGI conversation: its environment and a command/result channel."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self.env: dict[str, str] = {}
        self.hung_up = asyncio.Event()
        self._results: asyncio.Queue[str | None] = asyncio.Queue()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    async def start(self, timeout: float = 5.0) -> None:
        """Read the `agi_*` environment block (ends with an empty line), then listen. More than
        MAX_ENV_LINES lines, or a line over the stream's limit (MAX_LINE_BYTES on the server),
        ends the session with AgiError."""
        for _ in range(MAX_ENV_LINES + 1):
            try:
                raw = await asyncio.wait_for(self._reader.readline(), timeout)
            except ValueError as exc:  # asyncio's LimitOverrunError, re-raised by readline
                raise AgiLimitExceeded(f"an AGI environment line over {MAX_LINE_BYTES} "
                                       "bytes") from exc
            if not raw:
                raise AgiError("connection closed before the AGI environment ended")
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if not line:
                break
            key, sep, value = line.partition(": ")
            if sep and key.startswith("agi_"):
                self.env[key[4:]] = value
            else:  # e.g. a caller name with a raw newline in it: never a command for us
                _bad_environment.report("agi", "environment",
                                        f"ignored line {printable(line)}")
        else:
            raise AgiLimitExceeded(f"an AGI environment of more than {MAX_ENV_LINES} lines")
        self._task = asyncio.create_task(self._read_loop(), name="agi-reader")

    @property
    def script(self) -> str:
        return self.env.get("network_script", self.env.get("request", "")).strip("/")

    def arg(self, index: int) -> str:
        return self.env.get(f"arg_{index}", "")

    async def _read_loop(self) -> None:
        try:
            while raw := await self._reader.readline():
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                if line == "HANGUP":
                    self.hung_up.set()
                elif line:
                    await self._results.put(line)
        except (OSError, ValueError, asyncio.IncompleteReadError):  # ValueError: line too long
            pass
        finally:
            self.hung_up.set()
            await self._results.put(None)

    async def command(self, text: str, *, timeout: float | None = None) -> AgiResult:
        """Send one command and return its result; raise CallerHungUp on a dead channel."""
        async with self._lock:
            if self._task is None or self._task.done():
                raise CallerHungUp("AGI connection closed")
            self._writer.write(text.encode() + b"\n")
            await self._writer.drain()
            line = await asyncio.wait_for(self._next_line(), timeout)
            head = line[:3]
            code = int(head) if head.isascii() and head.isdigit() else 0  # not '²'
            if code == 520:  # usage text follows until a line starting with "520 "
                while not line.startswith("520 "):
                    line = await self._next_line()
                raise AgiError(f"usage error for {text.split(' ')[0]}")
            match = _RESULT.match(line)
            if code == 511 or match is None:
                raise CallerHungUp(f"channel gone ({printable(line)})")
            if code != 200:
                raise AgiError(f"{text.split(' ')[0]} refused: {printable(line)}")
            result = AgiResult(code, match.group(2) or "", match.group(3) or "")
            if result.result == "-1" and self.hung_up.is_set():
                raise CallerHungUp("caller hung up during the command")
            return result

    async def _next_line(self) -> str:
        line = await self._results.get()
        if line is None:
            raise CallerHungUp("AGI connection closed")
        return line

    async def get_variable(self, expression: str) -> str:
        """`${...}` evaluated on the channel (GET FULL VARIABLE); '' when unset."""
        result = await self.command(f"GET FULL VARIABLE {quote(expression)}")
        return result.data if result.result == "1" else ""

    async def set_variable(self, name: str, value: str) -> None:
        await self.command(f"SET VARIABLE {name} {quote(value)}")

    async def execute(self, app: str, *args: str) -> AgiResult:
        """Run a dialplan application; arguments are quoted, never built from caller input."""
        return await self.command(f"EXEC {app} {quote(','.join(args))}")

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
