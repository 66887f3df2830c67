"""A tiny AMI server on loopback: banner, Login, actions answered by ActionID, pushed events.

Enough of Asterisk's manager protocol for the client, the feed and the service to run against
without a PBX. A test pushes events (`send_event`, `send_capture`), drops every connection
(`drop`), answers actions its own way (`handlers`), and reads back what clients sent (`actions`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

BANNER = "Asterisk Call Manager/9.0.0"
# An action's answer: the messages to send, in order (the response, then any list events).
Handler = Callable[[dict[str, str]], list[dict[str, str]]]


def frame(fields: dict[str, str]) -> bytes:
    """One AMI message as Asterisk writes it: `Key: Value` lines and a blank line, CRLF."""
    return "".join(f"{k}: {v}\r\n" for k, v in fields.items()).encode() + b"\r\n"


def read_capture(path: Path) -> list[dict[str, str]]:
    """Events captured from the lab (tests/data/*.txt: `key: value` blocks) as field dicts."""
    events = []
    for block in path.read_text().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.strip().splitlines() if ": " in line)
        if "event" in fields:
            events.append({"Event": fields.pop("event"), **fields})
    return events


@dataclass
class FakeAmi:
    username: str = "callsla"
    secret: str = "s3cret"
    queues: list[str] = field(default_factory=lambda: ["frontdesk"])
    # The channels CoreShowChannels lists; None refuses the action (no `reporting` write).
    channels: list[str] | None = None
    handlers: dict[str, Handler] = field(default_factory=dict)
    actions: list[dict[str, str]] = field(default_factory=list)
    logins: int = 0
    port: int = 0
    _server: asyncio.Server | None = None
    _clients: set[asyncio.StreamWriter] = field(default_factory=set)
    _logged_in: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def start(self) -> FakeAmi:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        await self.drop()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def drop(self) -> None:
        """Close every client connection, as an Asterisk restart or a cut link would."""
        for writer in list(self._clients):
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        self._clients.clear()

    async def wait_for_logins(self, count: int, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout), self._logged_in:
            await self._logged_in.wait_for(lambda: self.logins >= count)

    @property
    def clients(self) -> int:
        return len(self._clients)

    async def send_event(self, name: str, **fields: str) -> None:
        await self.send({"Event": name, **fields})

    async def send(self, *messages: dict[str, str]) -> None:
        """Send messages to every logged-in client."""
        data = b"".join(frame(m) for m in messages)
        for writer in list(self._clients):
            writer.write(data)
            with contextlib.suppress(OSError):
                await writer.drain()

    def actions_named(self, name: str) -> list[dict[str, str]]:
        return [a for a in self.actions if a.get("Action", "").lower() == name.lower()]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(f"{BANNER}\r\n".encode())
        try:
            while True:
                action = await self._read_message(reader)
                if action is None:
                    return
                self.actions.append(action)
                for reply in await self._answer(action, writer):
                    writer.write(frame(reply))
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._clients.discard(writer)
            writer.close()

    @staticmethod
    async def _read_message(reader: asyncio.StreamReader) -> dict[str, str] | None:
        fields: dict[str, str] = {}
        while True:
            raw = await reader.readline()
            if not raw:
                return None
            line = raw.decode().rstrip("\r\n")
            if not line:
                if fields:
                    return fields
                continue
            key, _, value = line.partition(": ")
            # a repeated key (Variable: A=1, Variable: B=2) is kept as lines of one value
            fields[key] = f"{fields[key]}\n{value}" if key in fields else value

    async def _answer(self, action: dict[str, str],
                      writer: asyncio.StreamWriter) -> list[dict[str, str]]:
        name = action.get("Action", "")
        action_id = {"ActionID": action["ActionID"]} if "ActionID" in action else {}
        if name.lower() == "login":
            if (action.get("Username"), action.get("Secret")) != (self.username, self.secret):
                return [{"Response": "Error", **action_id, "Message": "Authentication failed"}]
            self._clients.add(writer)
            async with self._logged_in:
                self.logins += 1
                self._logged_in.notify_all()
            return [{"Response": "Success", **action_id, "Message": "Authentication accepted"}]
        if writer not in self._clients:
            return [{"Response": "Error", **action_id, "Message": "Permission denied"}]
        if name in self.handlers:
            return [{**action_id, **m} if "Response" in m else m
                    for m in self.handlers[name](action)]
        if name == "QueueSummary":
            return [{"Response": "Success", **action_id,
                     "Message": "Queue summary will follow"},
                    *({"Event": "QueueSummary", **action_id, "Queue": q, "LoggedIn": "3",
                       "Available": "3", "Callers": "0"} for q in self.queues),
                    {"Event": "QueueSummaryComplete", **action_id,
                     "EventList": "Complete", "ListItems": str(len(self.queues))}]
        if name == "CoreShowChannels":
            if self.channels is None:  # a read-only monitor user may not list channels
                return [{"Response": "Error", **action_id, "Message": "Permission denied"}]
            return [{"Response": "Success", **action_id, "Message": "Channels will follow"},
                    *({"Event": "CoreShowChannel", **action_id, "Uniqueid": uid}
                      for uid in self.channels),
                    {"Event": "CoreShowChannelsComplete", **action_id,
                     "EventList": "Complete", "ListItems": str(len(self.channels))}]
        if name == "QueueStatus":
            return [{"Response": "Success", **action_id, "Message": "Queue status will follow"},
                    {"Event": "QueueStatusComplete", **action_id, "EventList": "Complete"}]
        return [{"Response": "Success", **action_id}]
