"""The FastAGI server: a script's channel is let go when the server shuts down mid-call; only
allowed peers, a bounded number of sessions and Asterisk-sized environments get a script."""

from __future__ import annotations

import asyncio
import logging
import socket

import pytest

from agi_scripts.agi import MAX_ENV_LINES, MAX_LINE_BYTES, AgiSession
from agi_scripts.peer_allowlist import PeerAllowlist
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


async def test_a_peer_not_in_the_allowlist_gets_no_session_and_is_logged_once(
        caplog: pytest.LogCaptureFixture) -> None:
    ran: list[str] = []

    async def script(session: AgiSession) -> None:
        ran.append(session.script)

    port = _free_port()
    server = FastAgiServer({"s": script}, port=port, allow=PeerAllowlist.parse("10.0.0.0/8"))
    await server.start()
    try:
        with caplog.at_level(logging.WARNING, logger="agi_scripts.server"):
            for _ in range(2):
                reader = await _asterisk_connects(port, "s")
                assert await asyncio.wait_for(reader.read(), 5) == b""  # closed, nothing sent
    finally:
        await server.close()
    assert ran == []
    assert server.refused == 2
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 1  # once a minute per peer, not per attempt
    assert "'127.0.0.1'" in refusals[0]
    assert "CALLSLA_AGI_ALLOW" in refusals[0]


async def test_sessions_beyond_the_limit_are_refused() -> None:
    release = asyncio.Event()

    async def holds(session: AgiSession) -> None:
        await release.wait()

    port = _free_port()
    server = FastAgiServer({"holds": holds}, port=port, max_sessions=2)
    await server.start()
    try:
        for _ in range(2):
            await _asterisk_connects(port, "holds")
        async with asyncio.timeout(5):
            while server.active < 2:  # noqa: ASYNC110 - the server has no event for this
                await asyncio.sleep(0.01)
        third = await _asterisk_connects(port, "holds")
        assert await asyncio.wait_for(third.read(), 5) == b""
        assert server.refused == 1
        assert server.active == 2
    finally:
        release.set()
        await server.close()


@pytest.mark.parametrize("environment", [
    b"".join(b"agi_arg_%d: x\n" % n for n in range(MAX_ENV_LINES + 1)) + b"\n",
    b"agi_callerid: " + b"9" * (MAX_LINE_BYTES + 1) + b"\n\n",
])
async def test_an_environment_no_asterisk_sends_ends_the_session(environment: bytes) -> None:
    ran: list[str] = []

    async def script(session: AgiSession) -> None:
        ran.append(session.script)

    port = _free_port()
    server = FastAgiServer({"s": script}, port=port)
    await server.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"agi_network_script: s\n" + environment)
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), 5) == b""
        writer.close()
    finally:
        await server.close()
    assert ran == []
    assert server.failed == 1
