"""Soak: steady SIP traffic through the whole product while the memory (RSS) and open file
descriptors of every process are sampled; flat means no leak. Then every call placed must have
been counted once, on /metrics and in the store.

The lab as `make demo` starts it (Asterisk, Mosquitto, Prometheus, PostgreSQL with
`--postgres`, the agi-server, the monitor), the demo's callers and phones (lab/traffic.py) at
a constant rate: SIP callers on the trunk answered by receptionists 101-103, some giving up,
some blind-transferred to officers (answering, busy with status messages, out with a message,
not answering and returned to the front desk), and a wallboard polling /wallboard.json every
5 s as the TV does. Every `--interval` s: RSS (VmRSS; a part with several processes counts its
shared memory once) and open fds of each part, the monitor's Python heap (allocated blocks, gc
objects; tracemalloc with `--tracemalloc`), calls in progress. Printed: a table, the
least-squares slope per hour (whole run and after the warm-up), the first against the last
minutes, and the call count check.

Run: `CALLSLA_LAB_PORT_OFFSET=... .venv/bin/python bench/bench_soak.py` (2 minutes of traffic,
about 6 minutes in all with the start and the last callers' drain); `--minutes 30` for the soak.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.count_checks import Check, print_checks
from bench.demo_parts import children_by_parent, parts_of, process_tree
from bench.metrics_page import metric_sums
from lab import LabConfig
from lab.demo import Demo
from lab.processes import LabStartError
from lab.sip.phones import SippRun, sip_phones
from lab.traffic import DEMO_ROUTES, DayProfile, LabOfficers, Route, TrafficSimulator
from monitor.ami import AmiClient
from monitor.core.records import LegKind, Outcome
from monitor.store import open_store

REPO = Path(__file__).resolve().parent.parent
PBX = "lab"  # the demo's CALLSLA_PBX
WALLBOARD_POLL_SECONDS = 5.0  # the wallboard page's own refresh
DRAIN_SECONDS = 240.0  # a busy officer's caller stays 150 s after the PBX answers
SETTLE_SECONDS = 5.0  # the monitor's last events (MQTT, AMI) after the last hang-up


# ---- what is sampled --------------------------------------------------------------------

@dataclass(frozen=True)
class PartSample:
    rss_mb: float
    fds: int
    processes: int


def _status_kib(pid: int) -> dict[str, int]:
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
            found[key] = int(value.split()[0])
    return found


def sample_part(pid: int, children: dict[int, list[int]]) -> PartSample | None:
    """RSS and fds of a process and its descendants (PostgreSQL's backends, runuser's child).
    One process: its VmRSS. Several: their private and file pages, and the largest shared
    mapping once (each PostgreSQL backend maps the same shared buffers)."""
    private, shared, fds, alive = 0, 0, 0, 0
    for member in process_tree(pid, children):
        try:
            kib = _status_kib(member)
            fds += len(os.listdir(f"/proc/{member}/fd"))
        except OSError:
            continue  # ended between the scan and the read
        alive += 1
        private += kib.get("RssAnon", 0) + kib.get("RssFile", 0)
        shared = max(shared, kib.get("RssShmem", 0))
    if not alive:
        return None
    return PartSample(rss_mb=(private + shared) / 1024, fds=fds, processes=alive)


@dataclass
class Sample:
    minute: float
    phase: str  # traffic | drain | end
    parts: dict[str, PartSample | None]
    heap: dict[str, object]
    calls_up: int
    legs_offered: float


class MonitorHeap:
    """Asks bench/soak_monitor.py for a heap report and reads it back: SIGUSR1 the cheap
    figures, SIGUSR2 a tracemalloc snapshot (the baseline, then the growth since it)."""

    def __init__(self, report_file: Path, *, tracing: bool) -> None:
        self.file = report_file
        self.tracing = tracing
        self.file.unlink(missing_ok=True)

    async def read(self, pid: int, sig: signal.Signals = signal.SIGUSR1,
                   timeout: float = 30.0) -> dict[str, object]:
        # The sampler's reports and a snapshot's may interleave: each waits for its own kind.
        snapshot = sig is signal.SIGUSR2
        seen = len(self._lines())
        os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            for line in self._lines()[seen:]:
                figures: dict[str, object] = json.loads(line)
                if ("blocks" not in figures) is snapshot:
                    return figures
        return {}

    async def snapshot(self, pid: int) -> dict[str, object]:
        # A snapshot of a few hundred thousand blocks: seconds, more on a loaded machine.
        return await self.read(pid, signal.SIGUSR2, timeout=180.0) if self.tracing else {}

    def _lines(self) -> list[str]:
        try:
            return self.file.read_text().splitlines()
        except OSError:
            return []


# ---- the run ----------------------------------------------------------------------------

@dataclass
class PlacedCall:
    number: str
    route: Route
    run: SippRun


@dataclass
class Soak:
    demo: Demo
    minutes: float
    interval: float
    warmup_minutes: float
    calls_per_minute: float
    seed: int
    heap: MonitorHeap
    samples: list[Sample] = field(default_factory=list)
    placed: list[PlacedCall] = field(default_factory=list)
    growth: dict[str, object] = field(default_factory=dict)  # tracemalloc, after the traffic
    wallboard_polls: int = 0
    wallboard_errors: int = 0

    @property
    def metrics_url(self) -> str:
        return self.demo.urls.metrics

    def profile(self) -> DayProfile:
        # The demo's callers, phones and routes at one constant rate: no peaks, no lunch.
        return DayProfile(day_seconds=self.minutes * 60, calls_per_minute=self.calls_per_minute,
                          peaks=(), lunch=None, answer_median_seconds=3,
                          talk_mean_seconds=4, routes=DEMO_ROUTES)

    async def sample(self, started: float, phase: str) -> Sample:
        pids = parts_of(self.demo)
        children = children_by_parent()
        # The parts first: the CLI and HTTP probes below open descriptors of their own.
        parts = {name: sample_part(pid, children) for name, pid in pids.items()}
        heap = await self.heap.read(pids["monitor"])
        calls_up = await asyncio.to_thread(self._calls_up)
        offered = (await asyncio.to_thread(metric_sums, self.metrics_url)).get(
            "callsla_calls_offered_total", 0.0)
        found = Sample(minute=(time.monotonic() - started) / 60, phase=phase, parts=parts,
                       heap=heap, calls_up=calls_up, legs_offered=offered)
        self.samples.append(found)
        print(live_line(found), flush=True)
        return found

    def _calls_up(self) -> int:
        assert self.demo.lab.pbx is not None
        try:
            text = self.demo.lab.pbx.cli("core show channels count", timeout=10)
        except (LabStartError, OSError):
            return -1
        match = re.search(r"(\d+) active call", text)
        return int(match.group(1)) if match else -1

    async def sampler(self, started: float, phase: list[str]) -> None:
        baseline_taken = False
        while True:
            try:
                await self.sample(started, phase[0])
            except OSError as exc:  # the monitor too slow to answer: a gap, not the end
                print(f"[{(time.monotonic() - started) / 60:5.1f} min] no sample: {exc}",
                      flush=True)
            if not baseline_taken and (time.monotonic() - started) / 60 >= self.warmup_minutes:
                await self.heap.snapshot(parts_of(self.demo)["monitor"])
                baseline_taken = True
            await asyncio.sleep(self.interval)

    async def wallboard_tv(self) -> None:
        url = self.demo.urls.wallboard_json
        while True:
            try:
                await asyncio.to_thread(_fetch, url)
                self.wallboard_polls += 1
            except OSError:
                self.wallboard_errors += 1
            await asyncio.sleep(WALLBOARD_POLL_SECONDS)

    async def run(self) -> TrafficResult:
        config = self.demo.config
        before = await asyncio.to_thread(metric_sums, self.metrics_url)
        since = datetime.now(UTC)
        async with AmiClient(port=config.ports.ami, username=config.ami_user,
                             secret=config.ami_secret,
                             only_events=frozenset({"AgentConnect"})) as ami, \
                sip_phones(self.demo.lab) as phones:
            simulator = TrafficSimulator(
                ami, phones, self.profile(), seed=self.seed,
                on_placed=lambda n, r, run: self.placed.append(PlacedCall(n, r, run)))
            started = time.monotonic()
            phase = ["traffic"]
            helpers = [asyncio.create_task(self.sampler(started, phase)),
                       asyncio.create_task(self.wallboard_tv())]
            try:
                traffic = asyncio.create_task(simulator.run(drain_seconds=DRAIN_SECONDS))
                await asyncio.sleep(self.minutes * 60)
                phase[0] = "drain"
                self.growth = await self.heap.snapshot(parts_of(self.demo)["monitor"])
                stats = await traffic
                exits = Counter(c.run.returncode for c in self.placed)  # before phones stop
                await asyncio.sleep(SETTLE_SECONDS)
            finally:
                for task in helpers:
                    task.cancel()
                await asyncio.gather(*helpers, return_exceptions=True)
        # Every phone stopped, every call hung up: what is left is what stays.
        await asyncio.sleep(SETTLE_SECONDS)
        await self.sample(started, "end")
        after = await asyncio.to_thread(metric_sums, self.metrics_url)
        return TrafficResult(placed=list(self.placed), exits=exits,
                             transferred_to=stats.transferred_to,
                             failed_to_place=stats.failed, before=before, after=after,
                             since=since)


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        body: bytes = response.read()
    return body


# ---- what is printed --------------------------------------------------------------------

def live_line(s: Sample) -> str:
    parts = "  ".join(f"{name} {p.rss_mb:.1f} MB/{p.fds} fd" if p else f"{name} gone"
                      for name, p in s.parts.items())
    heap = f"heap {s.heap.get('objects', '?')} obj" if s.heap else "heap ?"
    return (f"[{s.minute:5.1f} min {s.phase:<7}] calls up {s.calls_up:>2}  legs "
            f"{s.legs_offered:>5.0f}  {parts}  {heap}")


def slope_per_hour(points: Iterable[tuple[float, float]]) -> float | None:
    """Least-squares slope of (minute, value), per hour."""
    pts = list(points)
    if len(pts) < 3:
        return None
    mean_x = sum(x for x, _ in pts) / len(pts)
    mean_y = sum(y for _, y in pts) / len(pts)
    var = sum((x - mean_x) ** 2 for x, _ in pts)
    if var == 0:
        return None
    return 60 * sum((x - mean_x) * (y - mean_y) for x, y in pts) / var


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def _fmt_slope(value: float | None, unit: str) -> str:
    return "-" if value is None else f"{value:+.2f} {unit}"


def print_report(soak: Soak) -> None:
    traffic = [s for s in soak.samples if s.phase == "traffic"]
    names = list(soak.samples[0].parts)
    step = max(1, round((soak.minutes / 6) * 60 / soak.interval)) if soak.minutes > 5 else 1
    shown = [s for i, s in enumerate(traffic) if i % step == 0]
    shown += [s for s in soak.samples if s.phase != "traffic"][-1:]
    if traffic and traffic[-1] not in shown:
        shown.insert(-1, traffic[-1])
    print(f"\nsoak: {soak.minutes:g} min of traffic, a sample every {soak.interval:g} s "
          f"(RSS MB / open fds; a part of several processes: its count in brackets)")
    header = f"{'min':>5} {'phase':<7} {'calls':>5} {'legs':>5} " + " ".join(
        f"{n:>17}" for n in names) + f" {'heap objects':>12} {'blocks':>8}"
    print(header)
    for s in shown:
        cells = []
        for name in names:
            p = s.parts.get(name)
            procs = f"[{p.processes}]" if p and p.processes > 1 else ""
            cells.append(f"{p.rss_mb:7.1f} {p.fds:4d}{procs:<5}" if p else f"{'gone':>17}")
        heap_objects = s.heap.get("objects", "?")
        heap_blocks = s.heap.get("blocks", "?")
        print(f"{s.minute:5.1f} {s.phase:<7} {s.calls_up:5d} {s.legs_offered:5.0f} "
              + " ".join(f"{c:>17}" for c in cells)
              + f" {heap_objects!s:>12} {heap_blocks!s:>8}")
    print(f"\nleast-squares slope per hour over the traffic: all of it / from minute "
          f"{soak.warmup_minutes:g} (after the warm-up)")
    window = min(5.0, soak.minutes / 3)
    rows: list[tuple[str, list[tuple[float, float]], list[tuple[float, float]], str]] = []
    for name in names:
        rss = [(s.minute, p.rss_mb) for s in traffic if (p := s.parts.get(name))]
        fds = [(s.minute, float(p.fds)) for s in traffic if (p := s.parts.get(name))]
        rows.append((f"{name} RSS", rss, [pt for pt in rss if pt[0] >= soak.warmup_minutes],
                     "MB/h"))
        rows.append((f"{name} fds", fds, [pt for pt in fds if pt[0] >= soak.warmup_minutes],
                     "fds/h"))
    for key, label in (("objects", "monitor heap objects"), ("blocks", "monitor heap blocks"),
                       ("traced_mb", "monitor traced MB")):
        pts = [(s.minute, float(v)) for s in traffic
               if isinstance(v := s.heap.get(key), int | float)]
        if pts:
            rows.append((label, pts, [pt for pt in pts if pt[0] >= soak.warmup_minutes],
                         "/h"))
    print(f"{'':<24} {'slope (all)':>16} {'slope (warm)':>16}   first {window:.2g} min -> "
          f"last {window:.2g} min (means)")
    for label, pts, warm_pts, unit in rows:
        firsts = [y for x, y in pts if x <= window]
        lasts = [y for x, y in pts if x >= soak.minutes - window]
        a, b = _mean(firsts), _mean(lasts)
        print(f"{label:<24} {_fmt_slope(slope_per_hour(pts), unit):>16} "
              f"{_fmt_slope(slope_per_hour(warm_pts), unit):>16}   {a:10.1f} -> {b:10.1f} "
              f"({b - a:+.1f})")
    growth = soak.growth.get("growth")
    if isinstance(growth, list):
        print(f"\nmonitor: source lines whose allocations grew most since minute "
              f"{soak.warmup_minutes:g} (tracemalloc)")
        for entry in growth:
            print(f"  {entry['kib']:+9.1f} KiB {entry['blocks']:+7d} blocks  {entry['where']}")
        tracebacks = soak.growth.get("tracebacks")
        for trace in tracebacks if isinstance(tracebacks, list) else []:
            assert isinstance(trace, dict)
            print(f"  {trace['kib']:+9.1f} KiB from " + " <- ".join(reversed(trace["frames"])))
        print(f"  (the snapshot held the monitor's loop {soak.growth.get('took_s', 0):.1f} s)")
    print(f"\nwallboard polled {soak.wallboard_polls} times ({soak.wallboard_errors} failed)")


@dataclass
class TrafficResult:
    placed: list[PlacedCall]
    exits: Counter[int | None]  # callers' SIPp exit codes (None: still running)
    transferred_to: dict[str, int]
    failed_to_place: int
    before: dict[str, float]
    after: dict[str, float]
    since: datetime


def check_counts(result: TrafficResult, db_url: str) -> bool:
    """Every call placed counted once: one front-desk leg per caller, one officer leg per
    transfer (a message for an officer who is out opens none: a callback instead), one
    returned leg per unanswered transfer; /metrics' offered moved by the store's legs."""
    officers = LabOfficers()
    placed = Counter(c.number for c in result.placed)
    by_route = Counter(c.route.value for c in result.placed)
    to = result.transferred_to
    to_officer_legs = sum(n for ext, n in to.items() if ext != officers.out)
    with open_store(db_url) as store:
        legs = [leg for leg in store.legs_between(result.since - timedelta(minutes=1),
                                                  datetime.now(UTC) + timedelta(minutes=1),
                                                  pbx=PBX)
                if leg.offered_at >= result.since - timedelta(seconds=5)]
        callbacks = [cb for cb in store.callbacks(pbx=PBX)
                     if cb.contacted_at >= result.since - timedelta(seconds=5)]
    kinds = Counter(leg.kind for leg in legs)
    front_desk = Counter(leg.caller_number for leg in legs if leg.kind is LegKind.FRONT_DESK)
    missing = placed - front_desk
    twice = {n: c for n, c in front_desk.items() if c > placed.get(n, 0)}
    in_progress = sum(1 for leg in legs if leg.outcome is Outcome.IN_PROGRESS)
    outcomes = Counter(leg.outcome.value for leg in legs)
    delta = {k: result.after.get(k, 0.0) - result.before.get(k, 0.0)
             for k in ("callsla_calls_offered_total", "offered_frontdesk",
                       "callsla_voicemails_total", "callsla_transfers_returned_total")}
    returned = kinds[LegKind.RETURNED]
    returned_from = Counter(leg.returned_from for leg in legs if leg.kind is LegKind.RETURNED)
    from_others = {officer: n for officer, n in returned_from.items()
                   if officer != officers.no_answer}
    checks: list[Check] = [
        ("calls placed (SIPp callers on the trunk)", sum(placed.values()), None),
        ("  callers' SIPp exit codes", dict(result.exits), None),
        ("  not placed (SIPp would not start)", result.failed_to_place, 0),
        ("front-desk legs in the store, one per caller", sum(front_desk.values()),
         sum(placed.values())),
        ("  callers with no front-desk leg", sum(missing.values()), 0),
        ("  callers with more than one", len(twice), 0),
        ("transfers to an officer (AMI BlindTransfer)", sum(to.values()), None),
        ("officer legs in the store (transfers less those to the out officer)",
         kinds[LegKind.TRANSFER], to_officer_legs),
        ("returned legs from the officer who does not answer", returned_from[officers.no_answer],
         to.get(officers.no_answer, 0)),
        ("  returned from other officers (a phone that rang out or was gone)", from_others,
         None),
        ("callbacks opened (the officer who is out)", len(callbacks), to.get(officers.out, 0)),
        ("legs still in progress", in_progress, 0),
        ("offered on /metrics since the start = legs in the store",
         delta["callsla_calls_offered_total"], float(len(legs))),
        ("  of which the front desk's (first and returned legs)", delta["offered_frontdesk"],
         float(kinds[LegKind.FRONT_DESK] + returned)),
        ("  transfers returned on /metrics", delta["callsla_transfers_returned_total"],
         float(returned)),
        ("callers waiting on /metrics at the end", result.after.get(
            "callsla_callers_waiting", 0.0), 0.0),
    ]
    print(f"\ncalls placed {sum(placed.values())} by route {dict(by_route)}; legs "
          f"{len(legs)} by outcome {dict(outcomes)}")
    return print_checks(checks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=2.0, help="minutes of traffic")
    parser.add_argument("--interval", type=float, default=30.0, help="seconds between samples")
    parser.add_argument("--calls-per-minute", type=float, default=15.0,
                        help="steady arrival rate (Poisson)")
    parser.add_argument("--warmup-minutes", type=float, default=None,
                        help="the slope 'after the warm-up' starts here (default: 15, the "
                        "wallboard's window, or half of a shorter run)")
    parser.add_argument("--postgres", action="store_true", help="the store in PostgreSQL")
    parser.add_argument("--tracemalloc", type=int, default=0, metavar="FRAMES",
                        help="trace the monitor's allocations (slows it; off by default)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    warmup = args.warmup_minutes if args.warmup_minutes is not None else \
        min(15.0, args.minutes / 2)
    config = LabConfig.from_env()
    heap = MonitorHeap(config.lab_dir / "run" / "soak-heap.jsonl", tracing=args.tracemalloc > 0)
    os.environ["CALLSLA_SOAK_HEAP_FILE"] = str(heap.file)
    os.environ["CALLSLA_SOAK_TRACEMALLOC"] = str(args.tracemalloc)
    demo = Demo(config, postgres=args.postgres,
                monitor_command=(sys.executable, str(REPO / "bench" / "soak_monitor.py")))
    print(f"soak: starting the lab, the agi-server and the monitor (offset "
          f"{config.ports.offset}; logs in {config.lab_dir / 'run'})", flush=True)
    try:
        demo.start()
        db_url = config.postgres_url if args.postgres else \
            f"sqlite:///{demo.demo_dir / 'callsla.db'}"
        soak = Soak(demo, minutes=args.minutes, interval=args.interval, warmup_minutes=warmup,
                    calls_per_minute=args.calls_per_minute, seed=args.seed, heap=heap)
        result = asyncio.run(soak.run())
        print_report(soak)
        return 0 if check_counts(result, db_url) else 1
    except LabStartError as exc:
        print(f"soak: {exc}", file=sys.stderr)
        return 1
    finally:
        demo.stop()


if __name__ == "__main__":
    sys.exit(main())
