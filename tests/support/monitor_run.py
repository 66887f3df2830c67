"""A `callsla monitor` process under a test's control (start, kill -9, restart), and its metrics."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from lab import Lab
from lab.processes import port_open, wait_until


class MonitorRun:
    """One monitor for one test: its own store URL and the lab's metrics port.

    `broker`: the lab whose Mosquitto it reads, when several PBXs share one (else its own)."""

    def __init__(self, lab: Lab, db_url: str, *, pbx: str = "lab", mqtt: bool = True,
                 queue_log: bool = True, cdr_csv: bool = False,
                 read_only_ami: bool = False, broker: Lab | None = None) -> None:
        config = lab.config
        assert lab.pbx is not None
        self.port = config.ports.metrics
        ami_url = config.part_ami_url("monitor")  # the monitor's own least-rights user
        if read_only_ami:  # the lab's `<user>-ro`: read rights only, no actions that write
            ami_url = config.ami_url.replace(f"//{config.ami_user}:", f"//{config.ami_user}-ro:")
        self.env = {**os.environ, "CALLSLA_AMI_URL": ami_url,
                    # the console's officers page sets AstDB as `callsla officer` does
                    "CALLSLA_OFFICER_AMI_URL": config.part_ami_url("officer"),
                    "CALLSLA_METRICS_ADDR": f"127.0.0.1:{self.port}",
                    "CALLSLA_DB_URL": db_url, "CALLSLA_PBX": pbx}
        if mqtt:
            self.env["CALLSLA_MQTT_URL"] = (broker or lab).config.part_mqtt_url("monitor")
        if queue_log:
            self.env["CALLSLA_QUEUE_LOG"] = str(lab.pbx.log_dir / "queue_log")
        if cdr_csv:
            self.env["CALLSLA_CDR_CSV"] = str(lab.pbx.log_dir / "cdr-csv" / "Master.csv")
        self.log_path: Path = config.lab_dir / "run" / "monitor-test.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> MonitorRun:
        wait_until(lambda: not port_open(self.port), 10, "metrics port free")
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "monitor", "monitor"],
                                            env=self.env, stdout=log, stderr=subprocess.STDOUT)
        wait_until(lambda: self._healthy(), 30, "callsla monitor healthy and AMI connected")
        return self

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"monitor exited: {self.log_path.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as r:
                return b'"ami_connected": true' in r.read()
        except OSError:
            return False

    def health(self) -> dict[str, object]:
        """/healthz as JSON, whatever its status (503 says not ok)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=5) as r:
                body = r.read()
        except urllib.error.HTTPError as exc:
            body = exc.read()
        found = json.loads(body)
        assert isinstance(found, dict)
        return found

    def log_since(self, offset: int) -> str:
        """What the monitor logged after byte `offset` of its log (see `log_size`)."""
        with self.log_path.open("rb") as log:
            log.seek(offset)
            return log.read().decode("utf-8", "replace")

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def kill9(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def metrics_text(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as r:
            return r.read().decode()

    def samples(self) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        found: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
        for family in text_string_to_metric_families(self.metrics_text()):
            for s in family.samples:
                found[(s.name, frozenset(s.labels.items()))] = s.value
        return found

    def value(self, name: str, **labels: str) -> float:
        """Sum of the samples of `name` whose labels include `labels`."""
        want = set(labels.items())
        return sum(v for (n, ls), v in self.samples().items() if n == name and want <= ls)


def wait_for(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")
