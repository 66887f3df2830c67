"""The FastAGI server: a script's channel is let go when the server shuts down mid-call."""

from __future__ import annotations

import asyncio
import socket

from agi_scripts.agi import AgiSession
from agi_scripts.server import FastAgiServer


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _asterisk_connects(port: int, script: str) -> asyncio.StreamReader:
    """What Asterisk sends first: the agi_* environment and an empty line."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"agi_network_script: {script}\nagi_channel: Local/test-1;2\n\n".encode())
    await writer.drain()
    return reader


async def test_closing_the_server_ends_a_script_stuck_mid_call() -> None:
    started = asyncio.Event()

    async def waits_forever(session: AgiSession) -> None:
        started.set()
        await asyncio.Event().wait()

    port = _free_port()
    server = FastAgiServer({"waits": waits_forever}, port=port)
    await server.start()
    reader = await _asterisk_connects(port, "waits")
    await asyncio.wait_for(started.wait(), 5)
    assert server.active == 1
    await asyncio.wait_for(server.close(), 5)
    # Asterisk sees the connection end, so its dialplan goes on (to the front desk).
    assert await asyncio.wait_for(reader.read(), 5) == b""
    assert server.active == 0
