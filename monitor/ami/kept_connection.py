"""An AMI connection for actions that is kept open: after a drop it logs in again by itself.

The FastAGI server asks AMI about officers' devices while callers listen to prompts. A PBX
restart or a cut link used to end that for good (until the server restarted); connection loss
is normal, so this reconnects with a back-off (1 s doubling to 30 s) and logs once per outage.
While it is down, `action()` fails at once and callers of it fall back (the prompt plays on).
With `event_classes` (e.g. "user") the login takes those events and hands each to the
listeners (`listen`): the event sender reads the monitor's acknowledgements this way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from monitor.ami.client import AmiClient, AmiError
from monitor.ami.message import AmiMessage
from monitor.core.settings import Endpoint

log = logging.getLogger(__name__)


class KeptAmiConnection:
    """`connected` and `action()` like an `AmiClient`, over whichever login is current."""

    def __init__(self, endpoint: Endpoint, *, retry_seconds: float = 1.0,
                 max_retry_seconds: float = 30.0, event_classes: str | None = None,
                 only_events: frozenset[str] | None = None) -> None:
        self.endpoint = endpoint
        self.event_classes = event_classes
        self.only_events = only_events
        self._listeners: list[Callable[[AmiMessage], None]] = []
        self.retry_seconds = retry_seconds
        self.max_retry_seconds = max_retry_seconds
        self.logins = 0
        self._client: AmiClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._first_attempt = asyncio.Event()

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.connected

    async def action(self, name: str, *, timeout: float = 10.0, **fields: str) -> AmiMessage:
        client = self._client
        if client is None:
            raise AmiError("AMI is not connected")
        return await client.action(name, timeout=timeout, **fields)

    def listen(self, listener: Callable[[AmiMessage], None]) -> None:
        """Call `listener` with each event of every login (none without `event_classes`)."""
        self._listeners.append(listener)

    async def start(self) -> None:
        """Begin keeping the connection; returns after the first login succeeded or failed."""
        if self._task is None:
            self._task = asyncio.create_task(self._keep(), name="ami-kept-connection")
        await self._first_attempt.wait()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _keep(self) -> None:
        delay, outage = self.retry_seconds, False
        while True:
            client = AmiClient.from_endpoint(self.endpoint, events=self.event_classes or False,
                                             only_events=self.only_events)
            try:
                await client.connect()
                self._client, self.logins, delay = client, self.logins + 1, self.retry_seconds
                if outage:
                    log.info("AMI at %s back", self.endpoint.redacted())
                outage = False
                self._first_attempt.set()
                async for event in client.events():  # without event_classes: until the close
                    for listener in self._listeners:
                        listener(event)
                log.warning("AMI connection to %s lost; reconnecting", self.endpoint.redacted())
                outage = True
            except AmiError as exc:
                if not outage:
                    log.warning("no AMI (%s): status messages play to the end of a prompt "
                                "until it is back", exc)
                outage = True
            finally:
                self._client = None
                self._first_attempt.set()
                await client.close()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_retry_seconds)
