"""A kept AMI connection logs in again after a drop and after a PBX that was down at start;
while down, an action fails at once."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator

import pytest

from monitor.ami import AmiError, KeptAmiConnection
from monitor.core.settings import parse_endpoint
from tests.support.fake_ami import FakeAmi


def _kept(port: int) -> KeptAmiConnection:
    endpoint = parse_endpoint("ami", f"tcp://callsla:s3cret@127.0.0.1:{port}",
                              schemes={"tcp": 5038})
    return KeptAmiConnection(endpoint, retry_seconds=0.05, max_retry_seconds=0.2)


@pytest.fixture
async def ami() -> AsyncIterator[FakeAmi]:
    server = await FakeAmi().start()
    yield server
    await server.close()


async def _until(condition: object, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # type: ignore[operator]  # noqa: ASYNC110 - a property
            await asyncio.sleep(0.02)


async def test_a_dropped_connection_logs_in_again(ami: FakeAmi,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    kept = _kept(ami.port)
    await kept.start()
    try:
        assert kept.connected
        assert (await kept.action("Ping")).succeeded
        with caplog.at_level(logging.WARNING, logger="monitor.ami.kept_connection"):
            await ami.drop()
            await _until(lambda: not kept.connected)
            started = time.monotonic()
            with pytest.raises(AmiError, match="not connected"):
                await kept.action("Ping", timeout=5)
            assert time.monotonic() - started < 0.1
            await ami.wait_for_logins(2)
            await _until(lambda: kept.connected)
        assert (await kept.action("Ping")).succeeded
        assert kept.logins == 2
        assert [r.getMessage() for r in caplog.records if "lost" in r.getMessage()] == [
            f"AMI connection to tcp://callsla:***@127.0.0.1:{ami.port} lost; reconnecting"]
    finally:
        await kept.close()
    assert not kept.connected


async def test_a_pbx_down_at_start_is_picked_up_when_it_comes(
        caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    kept = _kept(port)
    with caplog.at_level(logging.WARNING, logger="monitor.ami.kept_connection"):
        await kept.start()  # returns after the first attempt failed
        assert not kept.connected
        await asyncio.sleep(0.3)  # several attempts, one warning
    assert len([r for r in caplog.records if "no AMI" in r.getMessage()]) == 1
    server = await FakeAmi(port=port).start()
    try:
        await _until(lambda: kept.connected)
        assert (await kept.action("Ping")).succeeded
    finally:
        await kept.close()
        await server.close()


async def test_with_event_classes_it_logs_in_for_them_and_hands_events_to_its_listeners(
        ami: FakeAmi) -> None:
    """The agi-server's sender reads the monitor's acknowledgements (UserEvents) this way;
    other events are not parsed, and without event_classes the login asks for none."""
    endpoint = parse_endpoint("ami", f"tcp://callsla:s3cret@127.0.0.1:{ami.port}",
                              schemes={"tcp": 5038})
    kept = KeptAmiConnection(endpoint, event_classes="user",
                             only_events=frozenset({"UserEvent"}))
    heard: list[str] = []
    kept.listen(lambda event: heard.append(event.get("userevent", "")))
    plain = _kept(ami.port)
    await kept.start()
    await plain.start()
    try:
        await ami.send_event("Hangup", Channel="PJSIP/101-1")
        await ami.send_event("UserEvent", UserEvent="CallSLAStored", EventIDs="e1")
        await _until(lambda: heard == ["CallSLAStored"])
        assert [a["Events"] for a in ami.actions_named("Login")] == ["user", "off"]
    finally:
        await kept.close()
        await plain.close()
