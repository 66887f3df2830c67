"""How long `make demo` takes to be useful: start to "every URL answers" (wallboard, /metrics,
Prometheus' graph and alerts pages) and to "the wallboard's figures moved" (offered and answered
both rose), against the bare lab's start (`Lab().start()`, no monitor, no traffic) measured first
in the same run as the baseline. Targets (issue 5): everything up in under 3 minutes from a fresh
machine; figures move within a minute.

Run: `CALLSLA_LAB_PORT_OFFSET=... .venv/bin/python bench/demo_startup.py` (warm chroot cache,
about 1 minute), or with `--fresh-cache` to build the Asterisk chroot and the prompts into an
empty cache first, as on a fresh machine (about 2-3 minutes; needs Debian's mirror).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from lab import Lab, LabConfig, LabPorts
from lab.demo import DemoUrls, wallboard_figures

REPO = Path(__file__).resolve().parent.parent
TARGET_UP_SECONDS = 180.0
TARGET_MOVED_SECONDS = 60.0


def answered(metrics_url: str) -> float:
    with urllib.request.urlopen(metrics_url, timeout=5) as response:
        text = response.read().decode()
    return sum(s.value for family in text_string_to_metric_families(text)
               for s in family.samples if s.name == "callsla_calls_answered_total")


def wait(check: object, timeout: float, process: subprocess.Popen[bytes]) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise SystemExit(f"demo exited with {process.returncode}")
        try:
            if callable(check) and check():
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"not done after {timeout:.0f} s")


def bare_lab_start(env: dict[str, str]) -> float:
    """The baseline: the lab alone (Asterisk, Mosquitto, Prometheus), as tests start it."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        lab = Lab(LabConfig.from_env())
        try:
            return lab.start(("asterisk", "mosquitto", "prometheus"))["total"]
        finally:
            lab.stop()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fresh-cache", action="store_true",
                        help="build the chroot and prompts into an empty cache first")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="callsla-demo-bench-"))
    offset = LabConfig.from_env().ports.offset + 60
    env = {"CALLSLA_LAB_PORT_OFFSET": str(offset), "CALLSLA_LAB_DIR": str(work / "lab")}
    if args.fresh_cache:
        env["CALLSLA_LAB_CACHE"] = str(work / "cache")
    try:
        baseline = None if args.fresh_cache else bare_lab_start(env)
        urls = DemoUrls.of(LabConfig(lab_dir=work / "lab", cache_dir=work,
                                     ports=LabPorts(offset)))
        with (work / "console.txt").open("wb") as console:
            started = time.monotonic()
            demo = subprocess.Popen([sys.executable, "-m", "lab", "demo"], cwd=REPO,
                                    env={**os.environ, **env}, stdout=console,
                                    stderr=subprocess.STDOUT)
        try:
            wait(urls.answering, 600, demo)
            up = time.monotonic() - started
            first = wallboard_figures(urls.wallboard_json)
            first_answered = answered(urls.metrics)
            wait(lambda: wallboard_figures(urls.wallboard_json)["offered_today"]
                 > first["offered_today"] and answered(urls.metrics) > first_answered,
                 TARGET_MOVED_SECONDS * 2, demo)
            moved = time.monotonic() - started - up
        finally:
            stopping = time.monotonic()
            demo.send_signal(signal.SIGINT)
            demo.wait(60)
            stopped = time.monotonic() - stopping
        cache = "fresh cache (chroot and prompts built)" if args.fresh_cache else "warm cache"
        print(f"make demo start-up, {cache}:")
        if baseline is not None:
            print(f"  baseline: bare lab start            {baseline:6.1f} s")
        print(f"  every URL answers                   {up:6.1f} s  "
              f"(target < {TARGET_UP_SECONDS:.0f} s)")
        print(f"  wallboard figures moved, after that {moved:6.1f} s  "
              f"(target < {TARGET_MOVED_SECONDS:.0f} s)")
        print(f"  Ctrl-C to everything stopped        {stopped:6.1f} s")
        return 0 if up < TARGET_UP_SECONDS and moved < TARGET_MOVED_SECONDS else 1
    finally:
        remove_work(work)


def remove_work(work: Path) -> None:
    """Never delete through a mount point a chroot build may have left (its /proc, /sys)."""
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    if any(m.startswith(str(work)) for m in mounts):
        print(f"left {work} in place: something is still mounted under it")
        return
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
