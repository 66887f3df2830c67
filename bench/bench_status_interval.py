"""200 callers wait on busy officers: how close to 20 s are their status messages, and what does
the FastAGI server cost? Our asyncio server against a thread-per-call pyst2 baseline, same run.

Intervals come from Asterisk's own AMI `AGIExecStart` timestamps of each status message's first
prompt. Run: `CALLSLA_LAB_PORT_OFFSET=... .venv/bin/python bench/bench_status_interval.py`
(about 2 minutes; `--callers`, `--messages` to change the load).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from lab import Lab
from lab.processes import port_open, wait_until
from monitor.ami import AmiClient

REPO = Path(__file__).resolve().parent.parent
OFFICERS = ("2101", "2102", "2201", "2301")  # "in" in the sample directory
MARK = "/position_is"
TICKS = os.sysconf("SC_CLK_TCK")


def proc_figures(pid: int) -> tuple[float, int, int]:
    """CPU seconds used, peak RSS in KiB, threads, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICKS
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text()
                  .splitlines() if ":" in line)
    return cpu, int(status["VmHWM"].split()[0]), int(status["Threads"])


@dataclass
class Variant:
    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    process: subprocess.Popen[bytes] | None = None
    cpu0: float = 0.0
    starts: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def figures(self, wall: float, messages: int) -> dict[str, float]:
        assert self.process is not None
        cpu1, peak_kib, threads = proc_figures(self.process.pid)
        errors = sorted(abs(b - a - 20.0) for s in self.starts.values()
                        for a, b in itertools.pairwise(s))
        return {
            "callers": float(sum(1 for s in self.starts.values() if len(s) >= messages)),
            "intervals": float(len(errors)),
            "median_ms": 1000 * statistics.median(errors) if errors else float("nan"),
            "p99_ms": 1000 * errors[int(0.99 * (len(errors) - 1))] if errors else float("nan"),
            "max_ms": 1000 * errors[-1] if errors else float("nan"),
            "cpu_s": cpu1 - self.cpu0, "cpu_pct": 100 * (cpu1 - self.cpu0) / wall,
            "peak_rss_mib": peak_kib / 1024, "threads": float(threads),
        }


async def run_both(lab: Lab, variants: list[Variant], callers: int,
                   messages: int) -> tuple[float, list[dict[str, float]]]:
    """Both servers at once, callers interleaved, so they share the PBX's load and the
    machine's noise; each call picks its server with the channel variable CALLSLA_AGI."""
    config = lab.config
    ami = AmiClient(port=config.ports.ami, username=config.ami_user, secret=config.ami_secret)
    try:
        for v in variants:
            v.process = subprocess.Popen(v.argv, env={**os.environ, **v.env}, cwd=REPO,  # noqa: ASYNC220
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for v in variants:
            wait_until(lambda v=v: port_open(v.port), 20, f"{v.name} FastAGI server")
            v.cpu0 = proc_figures(v.process.pid)[0]  # type: ignore[union-attr]
        await ami.connect()
        for ext in OFFICERS:
            await ami.action("Setvar", Variable=f"DEVICE_STATE(Custom:o{ext})", Value="INUSE")
        by_channel: dict[str, Variant] = {}

        def done() -> bool:
            return all(sum(len(s) >= messages for s in v.starts.values()) >= callers
                       for v in variants)

        async def collect() -> None:
            async for event in ami.events():
                if event.event == "AGIExecStart" and MARK in event.get("command", ""):
                    variant = by_channel.get(event.get("calleridnum", ""))
                    if variant is not None:
                        variant.starts[event["channel"]].append(float(event["timestamp"]))
                        if done():
                            return

        reader = asyncio.create_task(collect())
        began = time.monotonic()
        for n in range(callers):
            for i, v in enumerate(variants):
                number = f"0{i + 3}{n:08d}"
                by_channel[number] = v
                await ami.action(
                    "Originate", Channel=f"Local/{OFFICERS[n % len(OFFICERS)]}@from-pstn",
                    Context="lab-caller", Exten="wait", Priority="1", CallerID=number,
                    Variable=f"PATIENCE=300\nCALLSLA_AGI=agi://127.0.0.1:{v.port}",
                    Async="true")
            await asyncio.sleep(0.02)
        try:
            await asyncio.wait_for(reader, 60 + 20 * messages)
        except TimeoutError:
            print("  not every caller reached", messages, "messages in time")
        wall = time.monotonic() - began
        results = [v.figures(wall, messages) for v in variants]
        await ami.command("channel request hangup all")
    finally:
        await ami.close()
        for v in variants:
            if v.process is not None:
                v.process.terminate()
                v.process.wait(10)
    return wall, results


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--callers", type=int, default=100, help="callers per server")
    parser.add_argument("--messages", type=int, default=3, help="status messages per caller")
    args = parser.parse_args()
    lab = Lab()
    lab.start(("asterisk", "mosquitto"))
    base = lab.config.ports.fastagi
    variants = [
        Variant("asyncio FastAGI (agi_scripts)", [sys.executable, "-m", "agi_scripts"],
                {"CALLSLA_AGI_ADDR": f"127.0.0.1:{base}",
                 "CALLSLA_MQTT_PUBLISH_URL": lab.config.part_mqtt_url("agi"),
                 "CALLSLA_PBX": "bench", "CALLSLA_OUTBOX": tempfile.mkdtemp()}, base),
        Variant("baseline: pyst2 thread per call",
                [sys.executable, "bench/pyst2_baseline.py", str(base + 1)],
                {"PYTHONPATH": str(REPO)}, base + 1),
    ]
    try:
        wall, results = await run_both(lab, variants, args.callers, args.messages)
    finally:
        lab.stop()
    print(f"\n{args.callers} callers per server on {len(OFFICERS)} busy officers, both servers "
          f"at once ({wall:.0f} s); {args.messages} status messages each; error = "
          "|interval - 20 s| from AMI AGIExecStart timestamps")
    keys = ("callers", "intervals", "median_ms", "p99_ms", "max_ms", "cpu_s", "cpu_pct",
            "peak_rss_mib", "threads")
    print(f"{'':>32}" + "".join(f"{k:>13}" for k in keys))
    for variant, figures in zip(variants, results, strict=True):
        print(f"{variant.name:>32}" + "".join(f"{figures[k]:>13.1f}" for k in keys))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
