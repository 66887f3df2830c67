"""The agi-server's kept AMI connection against the lab's Asterisk: a cut link is noticed, an
action meanwhile fails at once, and the connection logs in again when the link is back."""

from __future__ import annotations

import asyncio
import time

import pytest

from lab import Lab
from monitor.ami import AmiError, KeptAmiConnection
from monitor.core.settings import parse_endpoint
from tests.support.ami_proxy import AmiProxy


async def _until(condition: object, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # type: ignore[operator]  # noqa: ASYNC110 - a property
            await asyncio.sleep(0.05)


async def test_a_cut_ami_link_is_reconnected(lab: Lab) -> None:
    config = lab.config
    proxy_port = config.ports.ami + 60
    proxy = AmiProxy(listen_port=proxy_port, upstream_port=config.ports.ami)
    await proxy.open()
    # The agi-server's own least-rights user: the connection it keeps is this one.
    url = config.part_ami_url("agi").replace(f":{config.ports.ami}", f":{proxy_port}")
    kept = KeptAmiConnection(parse_endpoint("ami", url, schemes={"tcp": 5038}),
                             retry_seconds=0.2, max_retry_seconds=1.0)
    await kept.start()
    try:
        assert kept.connected
        state = await kept.action("Getvar", Variable="DEVICE_STATE(Custom:callsla-kept)")
        assert state.succeeded, state
        await proxy.cut()
        await _until(lambda: not kept.connected)
        started = time.monotonic()
        with pytest.raises(AmiError):
            await kept.action("Ping", timeout=5)
        assert time.monotonic() - started < 0.5
        await proxy.open()
        await _until(lambda: kept.connected)
        assert (await kept.action("Ping")).succeeded
        assert kept.logins == 2
    finally:
        await kept.close()
        await proxy.cut()
