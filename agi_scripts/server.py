"""One asyncio FastAGI server for every call: scripts by name, a safe fallback when one fails.

Asterisk calls `AGI(agi://host:port/<script>,args)`; the path names the script. A script that
raises leaves `CALLSLA_NEXT` unset and the dialplan takes the caller to the front desk; the
server itself never keeps a caller in silence.

Only peers in the allowlist (CALLSLA_AGI_ALLOW, loopback by default) get a session; at most
`max_sessions` run at once, and lines are at most MAX_LINE_BYTES: a refused or cut connection
leaves Asterisk's AGI() failed, so the dialplan takes that caller to the front desk.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from agi_scripts.agi import (
    MAX_LINE_BYTES,
    AgiError,
    AgiLimitExceeded,
    AgiSession,
    CallerHungUp,
    printable,
)
from agi_scripts.peer_allowlist import DEFAULT_AGI_ALLOW, PeerAllowlist

log = logging.getLogger(__name__)

Script = Callable[[AgiSession], Awaitable[None]]

DEFAULT_MAX_SESSIONS = 500  # one per caller in an AGI script at once; far above a front desk's
REFUSAL_LOG_SECONDS = 60.0  # one log line per refused peer and reason a minute, not per attempt
REFUSALS_REMEMBERED = 1024  # peers whose last log time is kept before the old ones are dropped


class FastAgiServer:
    """Serves registered scripts; counts what happened so a benchmark or test can read it."""

    def __init__(self, scripts: dict[str, Script], *, host: str = "127.0.0.1",
                 port: int = 4573, allow: PeerAllowlist | None = None,
                 max_sessions: int = DEFAULT_MAX_SESSIONS) -> None:
        self.scripts = scripts
        self.host = host
        self.port = port
        self.allow = allow or PeerAllowlist.parse(DEFAULT_AGI_ALLOW)
        self.max_sessions = max_sessions
        self.active = 0
        self.served = 0
        self.failed = 0
        self.refused = 0
        self._refusals_logged: dict[tuple[str, str], float] = {}
        self._server: asyncio.Server | None = None
        self._calls: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port,
                                                  backlog=1024, limit=MAX_LINE_BYTES)
        log.info("FastAGI listening on %s:%s for %s, at most %d sessions (scripts: %s)",
                 self.host, self.port, self.allow, self.max_sessions,
                 ", ".join(sorted(self.scripts)))

    async def serve_forever(self) -> None:
        if self._server is None:
            await self.start()
        assert self._server is not None
        async with self._server:
            await self._server.serve_forever()

    async def close(self) -> None:
        """Stop listening and end the calls in progress (each goes to the dialplan fallback)."""
        if self._server is not None:
            self._server.close()
        for task in list(self._calls):
            task.cancel()
        await asyncio.gather(*self._calls, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def _refusal(self, writer: asyncio.StreamWriter) -> str | None:
        """Why this connection gets no session, or None when it may have one."""
        peer = writer.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple) and peer else "?"
        if not self.allow.allows(address):
            reason = "not in CALLSLA_AGI_ALLOW"
        elif self.active >= self.max_sessions:
            reason = f"{self.max_sessions} sessions already (CALLSLA_AGI_MAX_SESSIONS)"
        else:
            return None
        self.refused += 1
        now = time.monotonic()
        key = (address, reason.split(" ", 1)[0])
        if now - self._refusals_logged.get(key, -REFUSAL_LOG_SECONDS) >= REFUSAL_LOG_SECONDS:
            if len(self._refusals_logged) >= REFUSALS_REMEMBERED:  # a scan of many addresses
                recent = {k: t for k, t in self._refusals_logged.items()
                          if now - t < REFUSAL_LOG_SECONDS}
                self._refusals_logged = recent if len(recent) < REFUSALS_REMEMBERED else {}
            self._refusals_logged[key] = now
            log.warning("FastAGI connection from %s refused: %s (%d refused so far; logged "
                        "once a minute per peer)", printable(address), reason, self.refused)
        return reason

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._refusal(writer) is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return
        session = AgiSession(reader, writer)
        self.active += 1
        task = asyncio.current_task()
        if task is not None:
            self._calls.add(task)
        try:
            await session.start()
            await run_script(session, self.scripts)
            self.served += 1
        except asyncio.CancelledError:
            log.info("server closing: call on %s left to the dialplan's fallback",
                     printable(session.env.get("channel", "?")))
        except AgiLimitExceeded as exc:
            self.failed += 1
            log.warning("FastAGI session ended before its script: %s", exc)
        except AgiError:
            if session.env:
                self.failed += 1
                log.exception("FastAGI connection failed before its script ran")
            else:  # connected and closed, nothing sent: a reachability probe (pbx check)
                log.debug("FastAGI connection closed before any request")
        except Exception:
            self.failed += 1
            log.exception("FastAGI connection failed before its script ran")
        finally:
            self.active -= 1
            if task is not None:
                self._calls.discard(task)
            await session.close()


async def run_script(session: AgiSession, scripts: dict[str, Script]) -> None:
    """Run the script the request names; on any error send the caller to the front desk."""
    name = session.script.split("?", 1)[0]
    script = scripts.get(name)
    channel = printable(session.env.get("channel", "?"))
    if script is None:
        log.error("no AGI script %s (channel %s); caller goes to the front desk",
                  printable(name), channel)
        await _fallback(session, "no_such_script")
        return
    try:
        await script(session)
    except CallerHungUp:
        log.info("%s: caller hung up on %s", name, channel)
    except Exception as exc:
        log.exception("%s failed on %s (%s); caller goes to the front desk", name, channel,
                      type(exc).__name__)
        await _fallback(session, "script_error")


async def _fallback(session: AgiSession, reason: str) -> None:
    with contextlib.suppress(AgiError, OSError, TimeoutError):
        await session.set_variable("CALLSLA_NEXT", "returned")
        await session.set_variable("CALLSLA_RETURN_REASON", reason)
