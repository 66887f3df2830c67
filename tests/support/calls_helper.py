"""Placing scripted calls and waiting for them to finish, as the monitor's lab tests need."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from lab.calls import place_inbound_call
from monitor.ami import AmiClient, AmiMessage


class QueueWatcher:
    """Counts, from our own AMI connection, callers that joined and left the front desk."""

    def __init__(self, ami: AmiClient) -> None:
        self.ami = ami
        self.joined: set[str] = set()
        self.left: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> QueueWatcher:
        self._task = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _read(self) -> None:
        async for event in self.ami.events():
            self._take(event)

    def _take(self, event: AmiMessage) -> None:
        if event.event == "QueueCallerJoin":
            self.joined.add(event["uniqueid"])
        elif event.event == "QueueCallerLeave":
            self.left.add(event["uniqueid"])

    async def wait_joined(self, count: int, timeout: float) -> None:
        await self._wait(self.joined, count, timeout, "joined")

    async def wait_left(self, count: int, timeout: float) -> None:
        await self._wait(self.left, count, timeout, "left")

    async def _wait(self, seen: set[str], count: int, timeout: float, what: str) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(seen) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"only {len(seen)} of {count} callers {what} the queue")
            await asyncio.sleep(0.1)


async def call_and_wait(ami: AmiClient, watcher: QueueWatcher, *, answer_after: float,
                        patience: float, caller_id: str) -> None:
    """One call, placed after the previous one left the queue, so its wait is its own."""
    before = len(watcher.left)
    await place_inbound_call(ami, caller_id=caller_id, patience=patience,
                             answer_after=answer_after)
    await watcher.wait_left(before + 1, timeout=patience + 30)
    await asyncio.sleep(1)  # the phone's talk time: every receptionist is free again


@contextmanager
def utc_window() -> Iterator[list[datetime]]:
    """Yields [start]; after the block, [start, end] for store queries."""
    window = [datetime.now(UTC)]
    yield window
    window.append(datetime.now(UTC))
