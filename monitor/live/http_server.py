"""The monitor's HTTP face: /metrics for Prometheus and /healthz for operators."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

log = logging.getLogger(__name__)

HealthCheck = Callable[[], dict[str, object]]
Page = Callable[[], tuple[str, str, bytes]]  # () -> (status, content type, body)


class MonitorHttpServer:
    """A small asyncio HTTP/1.1 server; enough for scrapes and health checks, no framework."""

    def __init__(self, *, registry: CollectorRegistry, health: HealthCheck,
                 pages: Mapping[str, Page] | None = None) -> None:
        self._registry = registry
        self._health = health
        self._pages = dict(pages or {})
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> None:
        self._server = await asyncio.start_server(self._serve, host, port)
        log.info("serving /metrics and /healthz on http://%s:%s", host, port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), 10)
            while (await asyncio.wait_for(reader.readline(), 10)) not in (b"\r\n", b"\n", b""):
                pass
            parts = request.decode("latin-1").split()
            path = parts[1].split("?")[0] if len(parts) >= 2 else ""
            status, ctype, body = self._route(path)
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body
            )
            await writer.drain()
        except (TimeoutError, OSError):
            pass
        finally:
            writer.close()

    def _route(self, path: str) -> tuple[str, str, bytes]:
        if path == "/metrics":
            return "200 OK", CONTENT_TYPE_LATEST, generate_latest(self._registry)
        if path == "/healthz":
            health = self._health()
            status = "200 OK" if health.get("ok") else "503 Service Unavailable"
            return status, "application/json", json.dumps(health).encode()
        if path in self._pages:
            return self._pages[path]()
        return "404 Not Found", "text/plain", b"not found\n"
