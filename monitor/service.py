"""The running monitor: connects to its sources, feeds the metrics, serves HTTP until stopped."""

from __future__ import annotations

import asyncio
import logging
import signal

from prometheus_client import CollectorRegistry

from monitor.ami import AmiClient, AmiError
from monitor.charter import load_charter
from monitor.http_server import MonitorHttpServer
from monitor.metrics import CallMetrics, create_call_metrics
from monitor.settings import Settings
from monitor.wallboard import Wallboard

log = logging.getLogger(__name__)

AMI_RECONNECT_MAX_SECONDS = 30.0


class MonitorService:
    """Owns the registry, the HTTP server and the AMI feed of one PBX."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.registry = CollectorRegistry()
        self.metrics: CallMetrics = create_call_metrics(self.registry)
        self.wallboard = Wallboard(self.registry, charter=load_charter(settings.charter))
        self.http = MonitorHttpServer(registry=self.registry, health=self.health,
                                      pages=self.wallboard.pages())
        self._ami_connected = False
        self._stop = asyncio.Event()

    def health(self) -> dict[str, object]:
        return {"ok": True, "pbx": self.settings.pbx, "ami_connected": self._ami_connected}

    async def run(self) -> None:
        host, port = self.settings.metrics_listen
        await self.http.start(host, port)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._stop.set)
        tasks = [asyncio.create_task(self._ami_feed(), name="ami-feed"),
                 asyncio.create_task(self.wallboard.run(), name="wallboard")]
        await self._stop.wait()
        log.info("stopping")
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.http.close()

    async def _ami_feed(self) -> None:
        """Read AMI events; connection loss is normal, so reconnect with capped back-off."""
        endpoint = self.settings.ami
        if endpoint is None:
            log.warning("no CALLSLA_AMI_URL: not reading AMI events")
            return
        pbx = self.settings.pbx
        delay = 1.0
        while True:
            client = AmiClient(host=endpoint.host, port=endpoint.port,
                               username=endpoint.username, secret=endpoint.password)
            try:
                await client.connect()
                delay = 1.0
                self._ami_connected = True
                self.metrics.source_connected.labels(pbx, "ami").set(1)
                async for _event in client.events():
                    self.metrics.events_received.labels(pbx, "ami").inc()
                log.warning("AMI at %s closed the connection", endpoint.redacted())
            except AmiError as exc:
                log.warning("%s; retrying in %.0f s", exc, delay)
            finally:
                self._ami_connected = False
                self.metrics.source_connected.labels(pbx, "ami").set(0)
                await client.close()
            await asyncio.sleep(delay)
            delay = min(delay * 2, AMI_RECONNECT_MAX_SECONDS)
