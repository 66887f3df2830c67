"""The aiohttp server: /metrics from prometheus-client, /healthz, and its request limits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from prometheus_client import CollectorRegistry, Counter

from monitor.live.http_server import MAX_BODY_BYTES, MonitorHttpServer


@pytest.fixture
async def server() -> AsyncIterator[MonitorHttpServer]:
    registry = CollectorRegistry()
    Counter("callsla_test_total", "a test counter", registry=registry).inc(3)

    async def echo(request: aiohttp.web.Request) -> aiohttp.web.Response:
        return aiohttp.web.Response(text=str(len(await request.read())))

    http = MonitorHttpServer(registry=registry, health=lambda: {"ok": False},
                             routes=[aiohttp.web.post("/echo", echo)])
    await http.start("127.0.0.1", 0)
    yield http
    await http.close()


def _url(http: MonitorHttpServer, path: str) -> str:
    return f"http://127.0.0.1:{http.port}{path}"


async def test_metrics_are_prometheus_text_and_healthz_says_503_when_not_ok(
        server: MonitorHttpServer) -> None:
    async with aiohttp.ClientSession() as client:
        async with client.get(_url(server, "/metrics")) as response:
            assert response.status == 200
            assert response.content_type == "text/plain"
            assert "callsla_test_total 3.0" in await response.text()
        async with client.get(_url(server, "/healthz")) as response:
            assert response.status == 503
            assert await response.json() == {"ok": False}
        async with client.get(_url(server, "/nothing")) as response:
            assert response.status == 404


async def test_an_oversized_header_is_refused_before_any_handler(
        server: MonitorHttpServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000
                 + b"\r\nConnection: close\r\n\r\n")
    await writer.drain()
    head = await asyncio.wait_for(reader.readline(), 10)
    writer.close()
    assert head.split()[1] in (b"400", b"431")


async def test_a_body_over_the_limit_is_refused(server: MonitorHttpServer) -> None:
    async with aiohttp.ClientSession() as client:
        async with client.post(_url(server, "/echo"), data=b"x" * 100) as response:
            assert await response.text() == "100"
        async with client.post(_url(server, "/echo"),
                               data=b"x" * (MAX_BODY_BYTES + 1)) as response:
            assert response.status == 413
