"""A TCP proxy in front of AMI that a test can cut and restore: "AMI access lost" on demand."""

from __future__ import annotations

import asyncio
import contextlib


class AmiProxy:
    """`listen_port` 0 takes a free port at the first `open` and keeps it for later ones (a
    fixed offset from the lab's AMI port can be another lab's AMI port)."""

    def __init__(self, *, listen_port: int = 0, upstream_port: int) -> None:
        self.listen_port = listen_port
        self.upstream_port = upstream_port
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def open(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.listen_port)
        self.listen_port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Refuse new connections and drop the current ones."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            client_w.close()
            return
        self._writers |= {client_w, up_w}
        await asyncio.gather(self._pipe(client_r, up_w), self._pipe(up_r, client_w),
                             return_exceptions=True)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, ConnectionError):
            pass
        finally:
            with contextlib.suppress(OSError, RuntimeError):
                writer.close()
            self._writers.discard(writer)
