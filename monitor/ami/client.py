"""A small asyncio AMI client: login, actions answered by ActionID, and an event stream."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import ssl
from collections.abc import AsyncIterator
from typing import Self

from monitor.ami.message import AmiMessage, parse_message
from monitor.core.settings import Endpoint
from monitor.core.tls_context import client_tls_context

log = logging.getLogger(__name__)

READ_CHUNK = 1 << 16


class AmiError(Exception):
    """An AMI connection or action failed; the message says which and why."""


def _escape(value: str) -> str:
    """AMI fields end at CR/LF: a value from a caller must never start a new field."""
    return value.replace("\r", " ").replace("\n", " ")


class AmiClient:
    """One AMI connection. Events are queued for `events()`; actions wait for their response."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 5038,
        username: str,
        secret: str,
        events: bool | str = True,
        event_queue_size: int = 100_000,
        only_events: frozenset[str] | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self._tls = tls  # `tls://`: Asterisk's manager.conf tlsenable, tlsbindaddr
        self.port = port
        self.username = username
        self._secret = secret
        # True: every event the user may read; a string: those classes only (e.g. "user").
        self._want_events = events
        # Events not in `only_events` are counted in `skipped_events` and never parsed.
        self._only_events = only_events
        self.skipped_events = 0
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._pending: dict[str, asyncio.Future[AmiMessage]] = {}
        self._ids = itertools.count(1)
        self._events: asyncio.Queue[AmiMessage | None] = asyncio.Queue(event_queue_size)
        self._reader_task: asyncio.Task[None] | None = None
        self.banner = ""

    @classmethod
    def from_endpoint(cls, endpoint: Endpoint, *, events: bool | str = True,
                      only_events: frozenset[str] | None = None) -> AmiClient:
        """A client for a parsed `CALLSLA_AMI_URL` (`Settings.ami`), over TLS for `tls://`."""
        return cls(host=endpoint.host, port=endpoint.port, username=endpoint.username,
                   secret=endpoint.password, events=events, only_events=only_events,
                   tls=client_tls_context(endpoint))

    async def connect(self, timeout: float = 5.0) -> None:
        """Open the TCP connection, read the banner and log in.

        Waits use `asyncio.timeout`, not `asyncio.wait_for`: on Python 3.11 the latter drops a
        cancel that arrives as its awaitable completes, so a stopping monitor carried on."""
        try:
            async with asyncio.timeout(timeout):
                reader, self._writer = await asyncio.open_connection(
                    self.host, self.port, ssl=self._tls)
                self._reader = reader
                self.banner = (await reader.readline()).decode("utf-8", "replace").strip()
        except (OSError, TimeoutError) as exc:  # ssl.SSLError (a refused certificate) too
            raise AmiError(f"cannot reach AMI at {self.host}:{self.port}: {exc}") from exc
        self._reader_task = asyncio.create_task(self._read_loop(), name="ami-reader")
        reply = await self.action(
            "Login",
            Username=self.username,
            Secret=self._secret,
            Events=(self._want_events if isinstance(self._want_events, str)
                    else "on" if self._want_events else "off"),
            timeout=timeout,
        )
        if not reply.succeeded:
            await self.close()
            raise AmiError(f"AMI login as {self.username!r} refused: {reply.get('message', '')}")
        log.info("AMI connected to %s:%s as %s%s (%s)", self.host, self.port, self.username,
                 " over TLS" if self._tls else "", self.banner)

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def action(self, name: str, *, timeout: float = 10.0, **fields: str) -> AmiMessage:
        """Send one action and wait for its response; fails at once when the connection is
        gone (the reader has stopped: no response could ever arrive)."""
        if self._writer is None or not self.connected:
            raise AmiError("AMI is not connected")
        action_id = f"callsla-{next(self._ids)}"
        lines = [f"Action: {name}", f"ActionID: {action_id}"]
        for key, value in fields.items():
            if key == "Variable" and "\n" in value:
                lines.extend(f"Variable: {_escape(v)}" for v in value.split("\n"))
            else:
                lines.append(f"{key}: {_escape(value)}")
        future: asyncio.Future[AmiMessage] = asyncio.get_running_loop().create_future()
        self._pending[action_id] = future
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        try:
            async with asyncio.timeout(timeout):
                await self._writer.drain()
                return await future
        except TimeoutError as exc:
            raise AmiError(f"AMI action {name} got no response in {timeout} s") from exc
        except OSError as exc:
            raise AmiError(f"AMI action {name} failed: {exc}") from exc
        finally:
            self._pending.pop(action_id, None)

    async def command(self, cli_command: str) -> str:
        """Run a CLI command through AMI and return its output."""
        reply = await self.action("Command", Command=cli_command)
        if not reply.succeeded:
            raise AmiError(f"CLI command {cli_command!r} failed: {reply.get('message', '')}")
        return reply.get("output", "")

    async def events(self) -> AsyncIterator[AmiMessage]:
        """Yield events until the connection closes."""
        while True:
            event = await self._events.get()
            if event is None:
                return
            yield event

    async def event_batches(self, max_size: int = 2000) -> AsyncIterator[list[AmiMessage]]:
        """Yield what has arrived (at least one event, at most `max_size`) until the connection
        closes: the consumer commits once per batch instead of once per event."""
        while True:
            first = await self._events.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < max_size and not self._events.empty():
                event = self._events.get_nowait()
                if event is None:
                    yield batch
                    return
                batch.append(event)
            yield batch

    async def _read_loop(self) -> None:
        """Read in large chunks and split messages on the blank line: one await per chunk, not
        per line, keeps parsing the cost that matters."""
        assert self._reader is not None
        pending = ""
        try:
            while data := await self._reader.read(READ_CHUNK):
                text = pending + data.decode("utf-8", "replace")
                if "\r" in text:
                    text = text.replace("\r\n", "\n")
                *messages, pending = text.split("\n\n")
                only = self._only_events
                for message in messages:
                    if only is not None and message.startswith("Event: "):
                        name = message[7:message.find("\n")] if "\n" in message else message[7:]
                        if name not in only:
                            self.skipped_events += 1
                            continue
                    lines = [line for line in message.split("\n") if line]
                    if lines:
                        self._dispatch(parse_message(lines))
        except (OSError, asyncio.IncompleteReadError) as exc:
            log.warning("AMI connection lost: %s", exc)
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(AmiError("AMI connection closed"))
            await self._events.put(None)

    def _dispatch(self, message: AmiMessage) -> None:
        action_id = message.get("actionid", "")
        if message.is_response and action_id in self._pending:
            future = self._pending[action_id]
            if not future.done():
                future.set_result(message)
        elif message.event is not None:
            try:
                self._events.put_nowait(message)
            except asyncio.QueueFull:
                log.error("AMI event queue full; dropping %s", message.event)

    @property
    def connected(self) -> bool:
        return self._reader_task is not None and not self._reader_task.done()

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
            self._writer = None
        if self._reader_task is not None:
            await asyncio.gather(self._reader_task, return_exceptions=True)
            self._reader_task = None
