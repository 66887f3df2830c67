"""`python -m lab demo` as a person runs it: it prints the wallboard's URL, the wallboard's
figures move within a minute, and Ctrl-C leaves no port open and no process of its lab behind.

The demo brings its own lab on its own ports and folder, so it runs beside the session's lab
without touching it: this session's offset + 50, or under pytest-xdist the worker's own offset
while the worker's lab is stopped (`own_lab_offset`, tests/integration/conftest.py).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from lab.config import LabPorts
from lab.demo import wallboard_figures
from lab.processes import port_open

FIGURES_MOVE_WITHIN_SECONDS = 60.0


@pytest.fixture(scope="module", autouse=True)
def quiet_pbx() -> None:
    """The demo starts its own lab: this module needs none of the session's."""


@dataclass
class DemoRun:
    process: subprocess.Popen[bytes]
    output: Path
    lab_dir: Path
    ports: LabPorts

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def url(self, name: str) -> str | None:
        found = re.search(rf"^\s+{re.escape(name)}\s+(http://\S+)$", self.text(), re.MULTILINE)
        return found.group(1) if found else None

    def leftovers(self) -> list[str]:
        """Processes of this demo's lab: its folder in their environment or command line."""
        marks = (f"CALLSLA_LAB_DIR={self.lab_dir}".encode(),
                 f"/lab{self.ports.offset}/".encode())
        found = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit() or int(proc.name) == os.getpid():
                continue
            try:
                seen = (proc / "environ").read_bytes() + (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if any(mark in seen for mark in marks):
                cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                found.append(f"{proc.name}: {cmd[:120]}")
        return found


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, own_lab_offset: int) -> Iterator[DemoRun]:
    work = tmp_path_factory.mktemp("demo")
    offset = own_lab_offset
    env = {**os.environ, "CALLSLA_LAB_PORT_OFFSET": str(offset),
           "CALLSLA_LAB_DIR": str(work / "lab")}
    output = work / "console.txt"
    with output.open("wb") as console:
        process = subprocess.Popen([sys.executable, "-m", "lab", "demo"], env=env,
                                   stdout=console, stderr=subprocess.STDOUT,
                                   cwd=Path(__file__).parents[3])
    run = DemoRun(process, output, (work / "lab").resolve(), LabPorts(offset))
    try:
        yield run
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_for_url(run: DemoRun, name: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if run.process.poll() is not None:
            raise AssertionError(f"demo exited ({run.process.returncode}): {run.text()}")
        url = run.url(name)
        if url is not None:
            return url
        time.sleep(0.5)
    raise AssertionError(f"no {name} URL after {timeout:.0f} s: {run.text()}")


def _answered(metrics_url: str) -> float:
    with urllib.request.urlopen(metrics_url, timeout=5) as response:
        text = response.read().decode()
    return sum(s.value for family in text_string_to_metric_families(text)
               for s in family.samples if s.name == "callsla_calls_answered_total")


def _officer_figures(figures: dict[str, Any]) -> tuple[float, bool]:
    """Offered legs at officers' departments (transfers), and whether a status interval counts."""
    transfers = sum(float(row["offered"]) for row in figures["departments"]
                    if row["department"] != "")
    return transfers, figures["status_on_time_15m"] is not None


def test_demo_figures_move_then_ctrl_c_stops_everything(demo: DemoRun) -> None:
    wallboard = _wait_for_url(demo, "wallboard", timeout=150)
    metrics = _wait_for_url(demo, "/metrics", timeout=10)
    for name in ("Prometheus", "alerts"):
        url = _wait_for_url(demo, name, timeout=10)
        with urllib.request.urlopen(url, timeout=5) as response:
            assert response.status == 200, url
    assert "ready" in demo.text()
    first = wallboard_figures(f"{wallboard}.json")
    first_answered = _answered(metrics)

    deadline = time.monotonic() + FIGURES_MOVE_WITHIN_SECONDS
    figures, answered = first, first_answered
    while time.monotonic() < deadline:
        figures, answered = wallboard_figures(f"{wallboard}.json"), _answered(metrics)
        transfers, status_counted = _officer_figures(figures)
        if (float(figures["offered_today"]) > float(first["offered_today"])
                and answered > first_answered and transfers > 0 and status_counted):
            break
        time.sleep(2)
    print(f"wallboard after a minute: offered {figures['offered_today']}, answered {answered}, "
          f"officer legs and status: {_officer_figures(figures)}, "
          f"missed {figures['missed_today']}, returned {figures['returned_today']}")
    assert float(figures["offered_today"]) > float(first["offered_today"])
    assert answered > first_answered
    assert figures["answer_rate_today"] is not None
    transfers, status_counted = _officer_figures(figures)
    assert transfers > 0, figures
    assert status_counted, figures

    demo.process.send_signal(signal.SIGINT)
    assert demo.process.wait(60) == 0, demo.text()
    assert "callsla demo stopped" in demo.text()
    ports = demo.ports
    still_open = [p for p in (ports.ami, ports.ami_tls, ports.fastagi, ports.mqtt, ports.mqtts,
                              ports.prometheus, ports.postgres, ports.metrics) if port_open(p)]
    assert still_open == []
    assert demo.leftovers() == []
