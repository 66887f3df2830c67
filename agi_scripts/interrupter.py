"""Stop a status message the moment the officer comes free, so the first caller is rung at once.

A status message is ten seconds of prompts; the first caller's channel cannot be asked about
the officer while a prompt plays. With an AMI connection, the server watches the officer's
device while the first caller listens, and stops the prompt (`ControlPlayback stop`, which also
ends an AGI `STREAM FILE`) as soon as the officer is free. Without AMI, the check waits for the
end of the current prompt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Protocol

from agi_scripts.officer_line import BUSY_DEVICE_STATES
from monitor.ami import AmiError, AmiMessage

log = logging.getLogger(__name__)


class AmiActions(Protocol):
    """What the interrupter needs of AMI: an `AmiClient` or a `KeptAmiConnection`."""

    @property
    def connected(self) -> bool: ...

    async def action(self, name: str, *, timeout: float = ..., **fields: str) -> AmiMessage: ...

    async def close(self) -> None: ...


class PromptInterrupter:
    """Polls one device through AMI while a prompt plays; stops the prompt when it frees.
    Only while `may_take()`: of a hundred callers waiting for one officer, one polls."""

    def __init__(self, ami: AmiActions | None, *, poll_seconds: float = 0.2) -> None:
        self.ami = ami
        self.poll_seconds = poll_seconds

    async def device_state(self, device: str) -> str:
        assert self.ami is not None
        reply = await self.ami.action("Getvar", Variable=f"DEVICE_STATE({device})")
        return reply.get("value", "")

    @contextlib.asynccontextmanager
    async def watching(self, channel: str, device: str,
                       may_take: Callable[[], bool]) -> AsyncIterator[None]:
        """While the block runs (one prompt), stop it if `device` frees and `may_take()`."""
        if self.ami is None or not self.ami.connected:
            yield
            return
        done = asyncio.Event()
        task = asyncio.create_task(self._watch(channel, device, may_take, done))
        try:
            yield
        finally:
            # Python 3.11's wait_for can lose a cancel that races a reply; the flag ends the
            # watcher anyway, and the prompt's caller never waits more than a poll for it.
            done.set()
            task.cancel()
            await asyncio.wait({task}, timeout=2 * self.poll_seconds)

    async def _watch(self, channel: str, device: str, may_take: Callable[[], bool],
                     done: asyncio.Event) -> None:
        assert self.ami is not None
        try:
            while not done.is_set():
                await asyncio.sleep(self.poll_seconds)
                if not may_take():
                    continue  # not first in line: the device is not this caller's to watch
                state = await self.device_state(device)
                if done.is_set():
                    return
                if state and state.upper() not in BUSY_DEVICE_STATES and may_take():
                    await self.ami.action("ControlPlayback", Channel=channel, Control="stop")
                    return
        except AmiError as exc:
            log.warning("cannot watch %s through AMI (%s); the prompt plays to its end",
                        device, exc)
