"""`python -m lab demo`: the whole product on one machine, a simulated working day running
through it, until Ctrl-C.

The lab PBX, Mosquitto, Prometheus with the recording and alert rules (PostgreSQL with
`--postgres`), the FastAGI server with the call flows, the monitor (MQTT, queue_log backfill,
a demo store under .lab/demo/) and the traffic simulator. Each part logs to .lab/run/<part>.log;
the console gets one line per part and the URLs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from dashboards import RULE_FILES
from lab.config import LabConfig
from lab.processes import LabStartError, ManagedProcess, wait_until
from lab.sip.phones import sip_phones
from lab.stack import Lab
from lab.traffic import DEMO_ROUTES, DayProfile, TrafficSimulator
from monitor.ami import AmiClient, AmiError

log = logging.getLogger(__name__)

# Three receptionists keep up off-peak and fall behind at the peaks: the 10-second answer rate
# is near its target in the quiet hours and dips when the morning and afternoon rushes come.
DEMO_DAY = DayProfile(day_seconds=600, calls_per_minute=6, answer_median_seconds=4,
                      talk_mean_seconds=12, routes=DEMO_ROUTES)
PROMETHEUS_UI = "/classic"  # Debian's Prometheus ships the classic web pages only


@dataclass(frozen=True)
class DemoUrls:
    wallboard: str
    wallboard_json: str
    metrics: str
    prometheus: str
    alerts: str

    @classmethod
    def of(cls, config: LabConfig) -> DemoUrls:
        monitor = f"http://127.0.0.1:{config.ports.metrics}"
        ui = f"{config.prometheus_url}{PROMETHEUS_UI}"
        return cls(wallboard=f"{monitor}/wallboard", wallboard_json=f"{monitor}/wallboard.json",
                   metrics=f"{monitor}/metrics", prometheus=f"{ui}/graph", alerts=f"{ui}/alerts")

    def answering(self) -> bool:
        """Every page answers 200 (Prometheus' pages and the monitor's)."""
        for url in (self.wallboard, self.metrics, self.prometheus, self.alerts):
            try:
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - http://127.0.0.1
                    if response.status != 200:
                        return False
            except OSError:
                return False
        return True


def wallboard_figures(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - http://127.0.0.1
        figures: dict[str, Any] = json.load(response)
    return figures


class Demo:
    """Starts the parts in order and stops them in reverse, whatever happened in between."""

    def __init__(self, config: LabConfig | None = None, *, postgres: bool = False,
                 monitor_command: Sequence[str] = (sys.executable, "-m", "monitor",
                                                   "monitor"),
                 part_env: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self.config = config or LabConfig.from_env()
        self.use_postgres = postgres
        self.monitor_command = list(monitor_command)  # bench/bench_soak.py wraps it
        # Settings a benchmark changes, by part ("agi-server", "monitor"), over the demo's own.
        self.part_env = {part: dict(env) for part, env in (part_env or {}).items()}
        self.lab = Lab(self.config, rule_files=list(RULE_FILES))
        run_dir = self.config.lab_dir / "run"
        self.agi = ManagedProcess("agi-server", run_dir)
        self.monitor = ManagedProcess("monitor", run_dir)
        self.urls = DemoUrls.of(self.config)

    @property
    def demo_dir(self) -> Path:
        return self.config.lab_dir / "demo"

    def say(self, part: str, text: str) -> None:
        print(f"  {part:<12} {text}", flush=True)

    def start(self) -> None:
        parts = ("asterisk", "mosquitto", "prometheus") + (("postgres",) if self.use_postgres
                                                          else ())
        timings = self.lab.start(parts)
        pbx = self.lab.pbx
        assert pbx is not None
        self.say("asterisk", f"PBX up in {timings['asterisk']:.1f} s (chroot "
                 f"{timings['chroot']:.1f} s) — log {pbx.log_dir / 'messages'}")
        self.say("mosquitto", f"MQTT {self.config.mqtt_url.replace(self.config.ami_secret, '***')}"
                 " — log .lab/run/mosquitto.log")
        self.say("prometheus", f"{len(RULE_FILES)} rule files loaded — log .lab/run/prometheus.log")
        if self.use_postgres:
            self.say("postgres", f"{self.config.postgres_url} — log .lab/run/postgres.log")
        pbx.cli("channel request hangup all")
        pbx.cli("logger rotate")  # the demo's day starts with an empty queue_log
        self.demo_dir.mkdir(parents=True, exist_ok=True)
        # Each part with its own least-rights AMI and MQTT users (docs/security.md).
        config = self.config
        log_start = self.agi.logfile.stat().st_size if self.agi.logfile.exists() else 0
        self.agi.start([sys.executable, "-m", "agi_scripts"], env={
            "CALLSLA_PBX": "lab", "CALLSLA_AGI_AMI_URL": config.part_ami_url("agi"),
            "CALLSLA_MQTT_PUBLISH_URL": config.part_mqtt_url("agi"),
            "CALLSLA_AGI_ADDR": f"127.0.0.1:{self.config.ports.fastagi}",
            "CALLSLA_OUTBOX": str(self.demo_dir / "outbox"),
            "CALLSLA_VOICEMAIL_SPOOL": str(pbx.spool_dir / "voicemail"),
            **self.part_env.get("agi-server", {})})
        wait_until(lambda: self._agi_ready(log_start), 20,
                   f"FastAGI server on port {self.config.ports.fastagi}")
        self.say("agi-server", f"call flows on agi://127.0.0.1:{self.config.ports.fastagi} "
                 "— log .lab/run/agi-server.log")
        db_url = self.config.postgres_url if self.use_postgres else \
            f"sqlite:///{self._fresh_sqlite()}"
        self.monitor.start(self.monitor_command, env={
            "CALLSLA_PBX": "lab", "CALLSLA_AMI_URL": config.part_ami_url("monitor"),
            "CALLSLA_MQTT_URL": config.part_mqtt_url("monitor"), "CALLSLA_DB_URL": db_url,
            "CALLSLA_METRICS_ADDR": f"127.0.0.1:{self.config.ports.metrics}",
            "CALLSLA_QUEUE_LOG": str(pbx.log_dir / "queue_log"),
            **self.part_env.get("monitor", {})})
        wait_until(self._monitor_ready, 30, "callsla monitor healthy and AMI connected")
        wait_until(self.urls.answering, 30, "the wallboard, /metrics and Prometheus' pages")
        self.say("monitor", f"store {db_url.split('@')[-1]} — log .lab/run/monitor.log")

    def _fresh_sqlite(self) -> Path:
        """A new day: the demo's store starts empty on every run."""
        db = self.demo_dir / "callsla.db"
        for path in (db, db.with_suffix(".db-wal"), db.with_suffix(".db-shm")):
            path.unlink(missing_ok=True)
        return db

    def _agi_ready(self, log_start: int) -> bool:
        """Its own log line, not a probe: an empty connection is logged as a failed call."""
        if not self.agi.running():
            raise LabStartError(f"agi-server exited at start: {self.agi.log_tail()}")
        with self.agi.logfile.open("rb") as log_file:
            log_file.seek(log_start)
            return b"FastAGI listening on" in log_file.read()

    def _monitor_ready(self) -> bool:
        if not self.monitor.running():
            raise LabStartError(f"monitor exited at start: {self.monitor.log_tail()}")
        try:
            url = f"http://127.0.0.1:{self.config.ports.metrics}/healthz"
            with urllib.request.urlopen(url, timeout=2) as response:
                return b'"ami_connected": true' in response.read()
        except OSError:
            return False

    def print_urls(self) -> None:
        print("\ncallsla demo is running — Ctrl-C stops everything", flush=True)
        for name, url in (("wallboard", self.urls.wallboard), ("/metrics", self.urls.metrics),
                          ("Prometheus", self.urls.prometheus), ("alerts", self.urls.alerts)):
            print(f"  {name:<12} {url}", flush=True)

    async def simulate(self, seed: int) -> None:
        config = self.config
        async with AmiClient(port=config.ports.ami, username=config.ami_user,
                             secret=config.ami_secret,
                             only_events=frozenset({"AgentConnect"})) as ami, \
                sip_phones(self.lab) as phones:
            simulator = TrafficSimulator(ami, phones, DEMO_DAY, seed=seed, loop_days=True)
            self.say("traffic", f"a {DEMO_DAY.day_seconds / 60:.0f}-minute working day of SIP "
                     "callers and phones, again and again — log .lab/run/demo.log")
            await simulator.run()

    def stop(self) -> None:
        for part in (self.monitor, self.agi):
            part.stop()
        self.lab.stop()


def _interrupt(*_: object) -> NoReturn:
    raise KeyboardInterrupt


def run_demo(*, postgres: bool = False, seed: int = 1) -> int:
    config = LabConfig.from_env()
    (config.lab_dir / "run").mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, force=True,
                        filename=config.lab_dir / "run" / "demo.log",
                        format="%(asctime)s %(name)s: %(message)s")
    # Ctrl-C and SIGTERM both stop the demo, even when started with SIGINT ignored (`cmd &`).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    demo = Demo(config, postgres=postgres)
    started = time.monotonic()
    print("callsla demo: starting the whole product on this machine", flush=True)
    try:
        demo.start()
        print(f"  {'ready':<12} in {time.monotonic() - started:.1f} s", flush=True)
        demo.print_urls()
        asyncio.run(demo.simulate(seed))
        return 0
    except LabStartError as exc:
        print(f"demo: {exc}", file=sys.stderr, flush=True)
        return 1
    except (AmiError, OSError) as exc:
        print(f"demo: the traffic simulator lost the PBX: {exc}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        # A second Ctrl-C must not leave half the parts running.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        parts = "monitor, agi-server, asterisk, mosquitto, prometheus" + (
            ", postgres" if postgres else "")
        print(f"\nstopping: {parts}", flush=True)
        demo.stop()
        print("callsla demo stopped", flush=True)
