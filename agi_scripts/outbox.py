"""Events go to disk first and to a transport when it can take them: a call never waits.

One JSON file per event (written then renamed, so a reader never sees half a file), named so
that sorting the names gives publishing order. A sender (MQTT here, AMI UserEvents in
`agi_scripts/ami_sender.py`) deletes a file only after the broker's PUBACK or Asterisk's
`Response: Success`; a crash in between sends it again with the same `event_id`, which
consumers drop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

import aiomqtt

from monitor.core.events import CallEvent
from monitor.core.private_files import write_private
from monitor.core.settings import Endpoint
from monitor.core.tls_context import client_tls_context

log = logging.getLogger(__name__)

OUTBOX_ENV = "CALLSLA_OUTBOX"
DEFAULT_OUTBOX = "callsla-outbox"


def outbox_folder(flag: str | None = None) -> Path:
    """The outbox folder: the `--outbox` flag, else $CALLSLA_OUTBOX, else ./callsla-outbox."""
    return Path(flag or os.environ.get(OUTBOX_ENV) or DEFAULT_OUTBOX)


@dataclass(frozen=True)
class OutboxEntry:
    """One stored event as a sender sends it: the payload is the JSON text both transports carry."""

    path: Path
    topic: str
    payload: str
    event_id: str
    type: str


class Outbox:
    """A folder of events waiting to be published."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.wake = asyncio.Event()

    def put(self, event: CallEvent) -> Path:
        """Store one event (a few hundred bytes, no fsync: a rename is atomic) and return.
        The file is 0600: events carry caller numbers and names."""
        name = f"{time.time_ns():020d}-{event.event_id}"
        body = json.dumps({"topic": event.topic, "payload": event.to_payload()},
                          ensure_ascii=False).encode()
        tmp = self.folder / f".{name}.tmp"
        write_private(tmp, body)
        path = self.folder / f"{name}.json"
        os.replace(tmp, path)
        self.wake.set()
        return path

    def pending(self) -> list[Path]:
        return sorted(self.folder.glob("*.json"))

    def waiting(self) -> Iterator[OutboxEntry]:
        """The stored events in publishing order; an unreadable file is moved aside (`.bad`,
        kept for inspection and retention) and logged, never sent."""
        for path in self.pending():
            try:
                stored = json.loads(path.read_bytes())
                payload = stored["payload"]
                entry = OutboxEntry(path=path, topic=str(stored["topic"]),
                                    payload=json.dumps(payload, ensure_ascii=False,
                                                       sort_keys=True),
                                    event_id=str(payload["event_id"]), type=str(payload["type"]))
            except FileNotFoundError:
                continue  # another sender took it meanwhile
            except (OSError, ValueError, KeyError, TypeError) as exc:
                self.set_aside(path, f"unreadable ({type(exc).__name__}: {exc})")
                continue
            yield entry

    def set_aside(self, path: Path, why: str) -> None:
        log.error("event %s %s; moved aside as .bad", path.name, why)
        with contextlib.suppress(OSError):
            path.rename(path.with_suffix(".bad"))

    def sent(self, entry: OutboxEntry) -> None:
        """The transport took it: delete the file."""
        entry.path.unlink(missing_ok=True)

    async def wait_for_more(self, seconds: float = 1.0) -> None:
        """Until `put` wakes the sender, or `seconds` (another process may write the folder)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wake.wait(), seconds)

    def older_than(self, before: datetime) -> list[Path]:
        """Events (waiting or moved aside as unreadable) stored before `before`, by the time
        in their name: what retention purges from a broker that never came back."""
        limit = int(before.timestamp() * 1e9)
        found = []
        for path in sorted([*self.folder.glob("*.json"), *self.folder.glob("*.bad")]):
            stamp = path.name.split("-", 1)[0]
            if stamp.isascii() and stamp.isdigit() and int(stamp) < limit:
                found.append(path)
        return found


class MqttSender:
    """Publishes the outbox with QoS 1; retries every `retry_seconds` while the broker is away."""

    def __init__(self, outbox: Outbox, endpoint: Endpoint, *, client_id: str,
                 retry_seconds: float = 1.0, publish_timeout: float = 5.0) -> None:
        self.outbox = outbox
        self.endpoint = endpoint
        self.client_id = client_id
        self.retry_seconds = retry_seconds
        self.publish_timeout = publish_timeout
        self.sent = 0

    async def run(self) -> None:
        """Until cancelled. Connection loss is normal: log once per outage, retry."""
        outage_logged = False
        while True:
            try:
                async with aiomqtt.Client(
                    self.endpoint.host, self.endpoint.port, identifier=self.client_id,
                    username=self.endpoint.username or None,
                    password=self.endpoint.password or None, timeout=self.publish_timeout,
                    tls_context=client_tls_context(self.endpoint),
                ) as client:
                    if outage_logged:
                        log.info("MQTT broker back; sending %d stored events",
                                 len(self.outbox.pending()))
                    outage_logged = False
                    await self._drain_forever(client)
            except (aiomqtt.MqttError, TimeoutError, OSError) as exc:
                if not outage_logged:
                    log.warning("MQTT broker %s unavailable (%s); events wait in %s",
                                self.endpoint.redacted(), exc, self.outbox.folder)
                    outage_logged = True
                await asyncio.sleep(self.retry_seconds)

    async def _drain_forever(self, client: aiomqtt.Client) -> None:
        while True:
            self.outbox.wake.clear()
            for entry in self.outbox.waiting():
                await asyncio.wait_for(
                    client.publish(entry.topic, entry.payload, qos=1), self.publish_timeout)
                self.outbox.sent(entry)
                self.sent += 1
            await self.outbox.wait_for_more()


class EventSender(Protocol):
    """A transport's sender: runs until cancelled, counting the events it delivered."""

    sent: int

    async def run(self) -> None: ...


async def send_pending(outbox: Outbox, endpoint: Endpoint, *, client_id: str,
                       timeout: float = 30.0) -> tuple[int, int]:
    """Publish what the outbox holds to MQTT; see `send_until_empty`."""
    return await send_until_empty(outbox, MqttSender(outbox, endpoint, client_id=client_id),
                                  timeout=timeout)


async def send_until_empty(outbox: Outbox, sender: EventSender, *,
                           timeout: float = 30.0) -> tuple[int, int]:
    """Run `sender` until the outbox is empty; returns (events sent, events still waiting after
    `timeout` seconds). Those waiting stay on disk for the next sender."""
    task = asyncio.create_task(sender.run(), name="send-pending")
    try:
        async with asyncio.timeout(timeout):
            while outbox.pending():  # noqa: ASYNC110 - a folder has no event to wait on
                await asyncio.sleep(0.2)
    except TimeoutError:
        pass
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return sender.sent, len(outbox.pending())
