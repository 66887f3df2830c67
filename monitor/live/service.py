"""The running monitor: store, recorder, AMI and MQTT feeds, backfill, gauges and HTTP."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry

from monitor.core.bad_input import BadInputLog
from monitor.core.charter import Charter, load_charter
from monitor.core.directory import Directory, DirectoryError, load_directory
from monitor.core.metrics import CallMetrics, create_call_metrics
from monitor.core.records import CallbackStatus, CallLeg
from monitor.core.settings import Settings, SettingsError
from monitor.ingest.ami_feed import AmiFeed
from monitor.ingest.backfill_runner import BackfillResult, backfill_cdr_csv, backfill_queue_log
from monitor.ingest.customers import CustomerRule
from monitor.ingest.mqtt_feed import MqttFeed
from monitor.ingest.recorder import Recorder
from monitor.live.console import Console, ConsoleSettings, console_routes
from monitor.live.console.downloads import Downloads
from monitor.live.http_server import MonitorHttpServer
from monitor.live.wallboard import Wallboard
from monitor.store import Store, StoreError, open_store

log = logging.getLogger(__name__)

GAUGE_REFRESH_SECONDS = 1.0
CALLBACK_REFRESH_SECONDS = 10.0


class MonitorService:
    """One PBX's monitor. Counters are rebuilt from the store before /metrics is served."""

    def __init__(self, settings: Settings, charter: Charter | None = None) -> None:
        self.settings = settings
        self.charter = charter or load_charter(settings.charter)
        self.registry = CollectorRegistry()
        self.metrics: CallMetrics = create_call_metrics(self.registry)
        self.wallboard = Wallboard(self.registry, charter=self.charter)
        self.console = Console(ConsoleSettings(
            pbx=settings.pbx, timezone=self.charter.timezone,
            idle_seconds=settings.console_idle_seconds, secure_cookies=settings.secure_cookies,
            wallboard_token=settings.wallboard_token, voicemail_spool=settings.voicemail_spool,
            sso_header=settings.console_sso_header.strip(), sso_proxies=settings.sso_proxies,
            ami=settings.ami, officer_ami=settings.officer_ami,
            answer_within_seconds=self.charter.answer_within_seconds),
            store=lambda: self.store, callbacks_changed=self._callbacks_changed,
            downloads=Downloads(charter=self.charter, pbx=settings.pbx,
                                reader=lambda: open_store(settings.db_url)),
            waiting=self._waiting_now)
        self.http = MonitorHttpServer(registry=self.registry, health=self.health,
                                      pages=self.wallboard.pages(),
                                      routes=console_routes(self.console),
                                      middlewares=[self.console.guard],
                                      bad_input=BadInputLog(counter=self.metrics.bad_input,
                                                            pbx=settings.pbx, logger=log))
        self.store: Store | None = None
        self.recorder: Recorder | None = None
        self.ami: AmiFeed | None = None
        self.mqtt: MqttFeed | None = None
        self.last_backfill: BackfillResult | None = None
        self._callback_departments: set[str] = set()
        self._stop = asyncio.Event()

    def health(self) -> dict[str, object]:
        return {
            "ok": self.recorder is not None and self.store is not None and not self.store.failure,
            "store_error": self.store.failure if self.store else None,
            "pbx": self.settings.pbx,
            "ami_connected": bool(self.ami and self.ami.connected),
            "mqtt_connected": bool(self.mqtt and self.mqtt.connected),
            "store": self.store.dialect if self.store else None,
            "schema_version": self.store.schema_version if self.store else None,
            "charter_version": self.charter.version,
            "open_legs": len(self.recorder.tracker.queue_legs) if self.recorder else 0,
            "last_backfill_lines": self.last_backfill.lines if self.last_backfill else None,
        }

    def _waiting_now(self) -> list[CallLeg]:
        """The callers waiting now (the console's live page), as the gauges count them."""
        return list(self.recorder.tracker.waiting_legs()) if self.recorder else []

    def catch_up(self) -> None:
        """Backfill from queue_log and the CDR CSV, where the monitor can read them."""
        if self.recorder is None:
            return
        if self.settings.queue_log is not None:
            self.last_backfill = backfill_queue_log(self.recorder, self.settings.queue_log)
        if self.settings.cdr_csv is not None:
            backfill_cdr_csv(self.recorder, self.settings.cdr_csv)

    async def run(self) -> None:
        pbx = self.settings.pbx
        # PostgreSQL may take up to its connect timeout: the loop must not stop meanwhile
        self.store = await asyncio.to_thread(open_store, self.settings.db_url)
        self.recorder = Recorder(store=self.store, metrics=self.metrics, pbx=pbx,
                                 customers=CustomerRule(self.settings.customer_context_names),
                                 callbacks_changed=self._callbacks_changed)
        directory = self.load_officers()
        if directory is not None:  # departments of transfer legs even with AMI alone
            self.recorder.tracker.know_officers(
                {o.extension: o.department for o in directory.officers.values()})
        rebuilt = self.recorder.start(departments=self.known_departments(directory))
        log.info("store %s (schema %d): %d legs counted again", self.store.dialect,
                 self.store.schema_version, rebuilt)
        self.wallboard.begin()  # its windows count from the rebuilt counters
        self.catch_up()
        host, port = self.settings.metrics_listen
        try:
            await self.http.start(host, port)
        except OSError as exc:  # in use, not ours, not an address here: one line, exit 2
            self.store.close()
            raise SettingsError(f"CALLSLA_METRICS_ADDR: cannot listen on {host}:{port}: "
                                f"{exc.strerror or exc}") from exc
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._stop.set)
        try:
            await self._run_feeds()
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):  # the loop may outlive the service
                loop.remove_signal_handler(sig)
            await self.http.close()
            self.store.close()

    async def _run_feeds(self) -> None:
        """Until SIGINT/SIGTERM or a feed task ends; then every task is cancelled."""
        assert self.recorder is not None
        tasks = [asyncio.create_task(self._refresh_gauges(), name="gauges"),
                 asyncio.create_task(self.wallboard.run(), name="wallboard")]
        if (ami := self.settings.ami) is not None:
            self.ami = AmiFeed(endpoint=ami, recorder=self.recorder, catch_up=self.catch_up)
            tasks.append(asyncio.create_task(self.ami.run(), name="ami-feed"))
        else:
            log.warning("no CALLSLA_AMI_URL: not reading AMI events")
        if (mqtt := self.settings.mqtt) is not None:
            self.mqtt = MqttFeed(endpoint=mqtt, recorder=self.recorder,
                                 client_id=self.settings.mqtt_client_id("monitor",
                                                                        socket.gethostname()))
            tasks.append(asyncio.create_task(self.mqtt.run(), name="mqtt-feed"))
        stopped = asyncio.create_task(self._stop.wait())
        try:
            done, _ = await asyncio.wait([stopped, *tasks], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not stopped and task.exception() is not None:
                    log.error("%s failed", task.get_name(), exc_info=task.exception())
            log.info("stopping")
        finally:
            for task in [stopped, *tasks]:
                task.cancel()
            await asyncio.gather(stopped, *tasks, return_exceptions=True)

    @staticmethod
    def load_officers() -> Directory | None:
        try:
            return load_directory()
        except DirectoryError as exc:
            log.warning("no officer directory (%s): departments appear as calls reach them", exc)
            return None

    def known_departments(self, directory: Directory | None) -> list[str]:
        """The directory's departments and any already seen, so their series exist from the
        start (dashboards show 0, not "no data", before a department's first call)."""
        known = set(directory.department_ids) if directory is not None else set()
        if self.store is not None:
            known.update(c.department for c in self.store.callbacks(pbx=self.settings.pbx)
                         if c.department)
        return sorted(known)

    async def _refresh_gauges(self) -> None:
        last_callbacks = 0.0
        loop = asyncio.get_running_loop()
        while True:
            now = datetime.now(UTC)
            if self.recorder is not None:
                self.recorder.refresh_waiting(now)
            if self.store is not None and loop.time() - last_callbacks >= CALLBACK_REFRESH_SECONDS:
                last_callbacks = loop.time()
                try:
                    if self.store.failure:  # /healthz says so until a write commits again
                        self.store.probe_write(self.settings.pbx)
                    self._refresh_callbacks(now)
                except StoreError as exc:  # the feeds reconnect the store; try again later
                    log.warning("callback gauges not refreshed: %s", exc)
            await asyncio.sleep(GAUGE_REFRESH_SECONDS)

    def _callbacks_changed(self) -> None:
        """A console close, or a callback event recorded, shows on /metrics at once, not at the
        next 10-second refresh."""
        try:
            self._refresh_callbacks(datetime.now(UTC))
        except StoreError as exc:
            log.warning("callback gauges not refreshed: %s", exc)

    def _refresh_callbacks(self, now: datetime) -> None:
        assert self.store is not None
        pbx = self.settings.pbx
        open_by: dict[str, int] = {}
        overdue_by: dict[str, int] = {}
        for cb in self.store.callbacks(pbx=pbx, status=CallbackStatus.OPEN):
            open_by[cb.department] = open_by.get(cb.department, 0) + 1
            overdue_by[cb.department] = overdue_by.get(cb.department, 0) + (cb.due_at < now)
        for department in {*open_by, *self._callback_departments}:
            self.metrics.callbacks_open.labels(pbx, department).set(open_by.get(department, 0))
            self.metrics.callbacks_overdue.labels(pbx, department).set(
                overdue_by.get(department, 0))
        self._callback_departments = set(open_by) | self._callback_departments
