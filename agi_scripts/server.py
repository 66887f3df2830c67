"""One asyncio FastAGI server for every call: scripts by name, a safe fallback when one fails.

Asterisk calls `AGI(agi://host:port/<script>,args)`; the path names the script. A script that
raises leaves `CALLSLA_NEXT` unset and the dialplan takes the caller to the front desk; the
server itself never keeps a caller in silence.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from agi_scripts.agi import AgiError, AgiSession, CallerHungUp, printable

log = logging.getLogger(__name__)

Script = Callable[[AgiSession], Awaitable[None]]


class FastAgiServer:
    """Serves registered scripts; counts what happened so a benchmark or test can read it."""

    def __init__(self, scripts: dict[str, Script], *, host: str = "127.0.0.1",
                 port: int = 4573) -> None:
        self.scripts = scripts
        self.host = host
        self.port = port
        self.active = 0
        self.served = 0
        self.failed = 0
        self._server: asyncio.Server | None = None
        self._calls: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port,
                                                  backlog=1024)
        log.info("FastAGI listening on %s:%s (scripts: %s)", self.host, self.port,
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

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
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
