"""The monitor's HTTP face on aiohttp: /metrics for Prometheus, /healthz, and the pages added to it.

It runs in the monitor's own event loop (no second thread or process), so a page reads the
same counters and store the feeds write. Requests are bounded: a header line or field over
8 KiB and a body over `MAX_BODY_BYTES` are refused by aiohttp before a handler runs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import cast

from aiohttp import hdrs, web
from aiohttp.typedefs import Middleware
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from monitor.core.bad_input import BadInputLog
from monitor.live.bad_requests import request_logger

log = logging.getLogger(__name__)

HealthCheck = Callable[[], dict[str, object]]
Page = Callable[[], tuple[str, str, bytes]]  # () -> (status, content type, body)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

MAX_BODY_BYTES = 64 * 1024  # the console's forms are small; nothing here uploads files
MAX_HEADER_BYTES = 8 * 1024  # per request line and per header field


class MonitorHttpServer:
    """/metrics and /healthz always, open to Prometheus; `pages` and `routes` are added beside.

    `middlewares` run for every request except /metrics and /healthz (e.g. the console's
    sessions); `routes` are added by the console. Bind with `start`, stop with `close`.
    """

    def __init__(self, *, registry: CollectorRegistry, health: HealthCheck,
                 pages: Mapping[str, Page] | None = None,
                 routes: list[web.AbstractRouteDef] | None = None,
                 middlewares: list[Middleware] | None = None,
                 bad_input: BadInputLog | None = None) -> None:
        self._health = health
        self._bad_input = bad_input or BadInputLog(counter=None, pbx="", logger=log)
        self._open_paths = {"/metrics", "/healthz"}
        self.app = web.Application(client_max_size=MAX_BODY_BYTES,
                                   middlewares=[self._guard(m) for m in middlewares or []],
                                   handler_args={"max_line_size": MAX_HEADER_BYTES,
                                                 "max_field_size": MAX_HEADER_BYTES})
        self.app.router.add_get("/metrics", _metrics_handler(registry))
        self.app.router.add_get("/healthz", self._healthz)
        for path, page in (pages or {}).items():
            self.app.router.add_get(path, _page_handler(page))
        self.app.add_routes(routes or [])
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    def _guard(self, middleware: Middleware) -> Middleware:
        """The middleware, skipped for the paths Prometheus and operators need without a login."""
        @web.middleware
        async def guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
            if request.path in self._open_paths:
                return await handler(request)
            return await middleware(request, handler)
        return guarded

    async def start(self, host: str, port: int) -> None:
        self._runner = web.AppRunner(self.app, access_log=None,
                                     logger=request_logger(self._bad_input))
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, reuse_address=True)
        await site.start()
        server = cast("object", site._server)  # the bound port, for port 0 in tests
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else port
        log.info("serving /metrics and /healthz on http://%s:%s", host, self.port)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, _request: web.Request) -> web.Response:
        health = self._health()
        return web.json_response(health, status=200 if health.get("ok") else 503)


def _metrics_handler(registry: CollectorRegistry) -> Handler:
    """prometheus-client's own encoder and content negotiation (text or OpenMetrics, `name[]`),
    run in a worker thread: a large site's /metrics takes 50 ms and more to render
    (bench/bench_metrics_render.py), which would stall the AMI feed on the loop. Metric values
    are lock-protected in prometheus-client, so collecting from a thread is safe."""
    async def serve(request: web.Request) -> web.Response:
        encoder, content_type = choose_encoder(",".join(request.headers.getall(hdrs.ACCEPT, [])))
        names = request.query.getall("name[]", [])
        source = registry.restricted_registry(names) if names else registry
        body = await asyncio.to_thread(encoder, source)
        response = web.Response(body=body, headers={hdrs.CONTENT_TYPE: content_type})
        response.enable_compression()  # gzip when Prometheus asks for it
        return response
    return serve


def _page_handler(page: Page) -> Handler:
    async def serve(_request: web.Request) -> web.Response:
        status, content_type, body = page()
        ctype, _, params = content_type.partition(";")
        charset = params.split("=", 1)[1].strip() if "=" in params else None
        return web.Response(status=int(status.split()[0]), body=body,
                            content_type=ctype.strip(), charset=charset)
    return serve
