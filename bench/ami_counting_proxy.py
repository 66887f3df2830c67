"""A loopback TCP proxy in front of Asterisk's AMI that counts what one part sends and gets:
actions by name and bytes each way. A benchmark points a part's AMI URL at it to measure
that part's AMI traffic per caller; Asterisk itself logs no per-connection figures.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter


class AmiCountingProxy:
    """Listens on 127.0.0.1:`port` (0: any free port) and forwards to the PBX's AMI port."""

    def __init__(self, ami_port: int, port: int = 0) -> None:
        self.ami_port = ami_port
        self.port = port
        self.actions: Counter[str] = Counter()
        self.bytes_sent = 0  # part -> Asterisk
        self.bytes_received = 0  # Asterisk -> part
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    def url(self, part_url: str) -> str:
        """`part_url` (`tcp://user:secret@127.0.0.1:<ami>`) through this proxy."""
        return part_url.replace(f"127.0.0.1:{self.ami_port}", f"127.0.0.1:{self.port}")

    def reading(self) -> tuple[int, int, int]:
        """Actions sent, bytes sent and bytes received so far."""
        return sum(self.actions.values()), self.bytes_sent, self.bytes_received

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, part_reader: asyncio.StreamReader,
                     part_writer: asyncio.StreamWriter) -> None:
        ami_reader, ami_writer = await asyncio.open_connection("127.0.0.1", self.ami_port)
        up = asyncio.create_task(self._pump(part_reader, ami_writer, upstream=True))
        down = asyncio.create_task(self._pump(ami_reader, part_writer, upstream=False))
        self._tasks |= {up, down}
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
        for task in (up, down):
            task.cancel()
            self._tasks.discard(task)
        for writer in (ami_writer, part_writer):
            writer.close()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *,
                    upstream: bool) -> None:
        # Lines up (to see each action's name), blocks down (events come by thousands).
        while data := await (reader.readline() if upstream else reader.read(65536)):
            if upstream:
                self.bytes_sent += len(data)
                if data[:7].lower() == b"action:":
                    self.actions[data[7:].strip().decode(errors="replace")] += 1
            else:
                self.bytes_received += len(data)
            writer.write(data)
            await writer.drain()
