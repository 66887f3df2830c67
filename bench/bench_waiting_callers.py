"""Rising numbers of SIP callers waiting at once: are their status messages still 20 s apart,
and what does it cost? Our per-caller AGI loop (officers' lines) against Asterisk's own
app_queue periodic announcements (the front-desk queue), in the same run on the same PBX.

The whole product runs as `make demo` starts it (Asterisk, Mosquitto, Prometheus, agi-server,
monitor). For each N, N callers arrive over the SIP trunk from SIPp (`SipPhones.calls_in`):
half dial the direct lines of four busy officers (`Custom:o<ext>` INUSE: the call flow
announces the officer, says they are busy and gives a status message every 20 s) and half the
front desk, whose three receptionists are busy (app_queue plays `periodic-announce` every
20 s). Once every caller has had `--messages` intervals, the officers and receptionists come
free for `--serve` s (the first callers in line are put through), then everyone is hung up.

Measured on the PBX's clock (AMI `Timestamp`): a status message of ours starts at the
`AGIExecStart` of its first prompt (`position_is`); one of app_queue's at the
`MusicOnHoldStop` it makes for the announcement. Error = |interval - 20 s|. The announcement
delay is from the caller's channel appearing (`Newchannel`) to the first prompt of the
officer's announcement (T-e). CPU is user + system time of each part's processes over the
step (/proc), RSS at the step's end. AGI commands per waiting caller-second come from
`AGIExecStart`; the agi-server's and the monitor's AMI traffic from a counting proxy
(bench/ami_counting_proxy.py) in front of the PBX.

Run: `CALLSLA_LAB_PORT_OFFSET=... .venv/bin/python bench/bench_waiting_callers.py` (100 and
200 callers, about 5 minutes); `--steps 100,200,400,700,1000` for the load curve. Asterisk's RTP
range is widened to 4 ports a caller by the lab's span (the offset's next labs must be free).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import math
import os
import re
import statistics
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ami_counting_proxy import AmiCountingProxy
from bench.bench_soak import sample_part
from bench.demo_parts import children_by_parent, cpu_seconds, parts_of
from lab import LabConfig
from lab.demo import Demo
from lab.sip.phones import SipPhones, SippRun, sip_phones
from monitor.ami import AmiClient, AmiMessage

OFFICERS = ("2101", "2102", "2201", "2301")  # "in" in the sample directory
RECEPTIONISTS = ("r1", "r2", "r3")  # the lab's Local-channel front desk
STATUS_MARK = "/position_is"  # the first prompt of each status message of ours
INTERVAL = 20.0
FLOOR_TRUNK, FLOOR_EXTEN = "direct-trunk", "moh"  # lab: music on hold and nothing else
FLOOR_SECONDS = 40.0  # the floor's measuring window once every caller is in
EVENTS = frozenset({"Newchannel", "AGIExecStart", "QueueCallerJoin", "MusicOnHoldStop",
                    "DialBegin", "AgentConnect", "Hangup"})


@dataclass
class Waiter:
    """One caller's channel as the PBX reported it."""

    created: float
    design: str = ""  # "agi" (an officer's line) | "queue" (the front desk)
    starts: list[float] = field(default_factory=list)  # status messages
    first_prompt: float | None = None
    agi_commands: int = 0
    served: bool = False
    ended: float | None = None

    def intervals(self) -> list[float]:
        return [b - a for a, b in itertools.pairwise(self.starts)]


class PbxWatch:
    """Reads the PBX's events for the whole run; callers are trunk channels."""

    def __init__(self) -> None:
        self.waiters: dict[str, Waiter] = {}
        self.message = asyncio.Event()  # set at each status message

    async def next_message(self, timeout: float) -> None:
        """Until the next status message (of anyone), or `timeout` s."""
        self.message.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.message.wait(), timeout)

    async def read(self, ami: AmiClient) -> None:
        async for event in ami.events():
            self.take(event)

    def take(self, event: AmiMessage) -> None:
        channel = event.get("channel", "")
        stamp = float(event.get("timestamp", "0") or 0)
        if event.event == "Newchannel":
            if channel.startswith("PJSIP/trunk-"):
                self.waiters[channel] = Waiter(created=stamp)
            elif channel.startswith(f"PJSIP/{FLOOR_TRUNK}-"):
                self.waiters[channel] = Waiter(created=stamp, design="floor")
            return
        waiter = self.waiters.get(channel)
        if waiter is None:
            return
        if event.event == "AGIExecStart":
            waiter.design = "agi"
            waiter.agi_commands += 1
            command = event.get("command", "")
            if waiter.first_prompt is None and command.startswith("STREAM FILE"):
                waiter.first_prompt = stamp
            if STATUS_MARK in command:
                waiter.starts.append(stamp)
                self.message.set()
        elif event.event == "QueueCallerJoin":
            waiter.design = "queue"
        elif event.event == "MusicOnHoldStop" and waiter.design == "queue" and not waiter.served:
            waiter.starts.append(stamp)
            self.message.set()
        elif event.event in ("DialBegin", "AgentConnect"):
            waiter.served = True
        elif event.event == "Hangup":
            waiter.ended = stamp

    def of(self, channels: Iterable[str], design: str) -> list[Waiter]:
        return [self.waiters[c] for c in channels if self.waiters[c].design == design]


def quantiles(values: Sequence[float]) -> tuple[float, float, float]:
    """Median, p99 and max, or NaN for none."""
    if not values:
        return (float("nan"),) * 3
    ordered = sorted(values)
    return (statistics.median(ordered), ordered[int(0.99 * (len(ordered) - 1))], ordered[-1])


@dataclass
class Step:
    kind: str  # "status" (AGI loop + app_queue) | "music" (the floor)
    callers: int
    seconds: float
    rows: dict[str, dict[str, float]]  # design -> figures
    cpu: dict[str, float]  # part -> % of one core
    rss: dict[str, float]  # part -> MB
    ami: dict[str, tuple[float, float]]  # part -> actions / caller-s, KB / caller-s
    load: float


class WaitingCallersBench:
    def __init__(self, demo: Demo, phones: SipPhones, ami: AmiClient,
                 proxies: dict[str, AmiCountingProxy], messages: int, rate: float,
                 serve: float) -> None:
        self.demo, self.phones, self.ami = demo, phones, ami
        self.proxies = proxies
        self.messages, self.rate, self.serve = messages, rate, serve
        self.watch = PbxWatch()

    async def set_busy(self, busy: bool) -> None:
        state = "INUSE" if busy else "NOT_INUSE"
        for device in (*(f"o{e}" for e in OFFICERS), *RECEPTIONISTS):
            await self.ami.action("Setvar", Variable=f"DEVICE_STATE(Custom:{device})",
                                  Value=state)

    def part_pids(self, runs: Sequence[SippRun]) -> dict[str, list[int]]:
        pids = {name: [pid] for name, pid in parts_of(self.demo).items()
                if name != "prometheus"}
        pids["sipp"] = [r.process.process.pid for r in runs if r.process.process is not None]
        return pids

    def place(self, number: int, callers: int, *, floor: bool) -> list[SippRun]:
        """Half on the officers' lines and half at the front desk; or all on music alone."""
        if floor:
            return [self.phones.calls_in(callers, numbers=f"0{number}8", dialled=FLOOR_EXTEN,
                                         trunk=FLOOR_TRUNK, per_second=self.rate,
                                         patience=3600)]
        per_officer = callers // 2 // len(OFFICERS)
        queue_callers = callers - per_officer * len(OFFICERS)
        per_second = self.rate / (len(OFFICERS) + 1)
        runs = [self.phones.calls_in(per_officer, numbers=f"0{number}{i}", dialled=ext,
                                     per_second=per_second, patience=3600)
                for i, ext in enumerate(OFFICERS)]
        runs.append(self.phones.calls_in(queue_callers, numbers=f"0{number}9",
                                         per_second=self.rate * queue_callers / callers,
                                         patience=3600))
        return runs

    async def step(self, number: int, callers: int, *, floor: bool = False) -> Step:
        await self.set_busy(True)
        known = set(self.watch.waiters)
        runs = self.place(number, callers, floor=floor)
        pids = self.part_pids(runs)
        children = children_by_parent()
        cpu0 = {part: cpu_seconds(ps, children) for part, ps in pids.items()}
        ami0 = {part: proxy.reading() for part, proxy in self.proxies.items()}
        began, load0 = time.monotonic(), os.getloadavg()[0]
        deadline = began + callers / self.rate + 60 + INTERVAL * (self.messages + 2)

        def mine() -> list[str]:
            return [c for c in self.watch.waiters if c not in known]

        def done() -> bool:
            channels = mine()
            if floor:
                return len(channels) >= callers and time.monotonic() - max(
                    [began, *arrived]) >= FLOOR_SECONDS
            return len(channels) >= callers and all(
                len(self.watch.waiters[c].intervals()) >= self.messages for c in channels)

        arrived: list[float] = []  # when the last caller was in (the floor's window)
        while not done() and time.monotonic() < deadline:
            if floor and not arrived and len(mine()) >= callers:
                arrived.append(time.monotonic())
            await self.watch.next_message(timeout=1.0)
        measured = time.monotonic() - began
        children = children_by_parent()
        cpu = {part: 100 * (cpu_seconds(ps, children) - cpu0[part]) / measured
               for part, ps in pids.items()}
        rss = {}
        for part, ps in pids.items():
            samples = [sample_part(p, children) for p in ps]
            rss[part] = sum(s.rss_mb for s in samples if s is not None)
        channels = mine()
        waiting_seconds = {d: sum(time.time() - w.created for w in self.watch.of(channels, d))
                           for d in ("agi", "queue", "floor")}
        ami = {}
        for part, proxy in self.proxies.items():
            actions, sent, got = (b - a for a, b in zip(ami0[part], proxy.reading(),
                                                        strict=True))
            per = waiting_seconds["agi"] if part == "agi-server" else sum(
                waiting_seconds.values())
            ami[part] = (actions / per if per else 0.0, (sent + got) / 1024 / per if per else 0.0)
        rows = {design: self.figures(self.watch.of(channels, design), design)
                for design in (("floor",) if floor else ("agi", "queue"))}
        # Served: the officers and receptionists free for a while, then everyone hung up.
        await self.set_busy(False)
        await asyncio.sleep(self.serve)
        for design in rows:
            rows[design]["served"] = float(sum(w.served for w in self.watch.of(channels,
                                                                               design)))
        await self.set_busy(True)
        await self.ami.command("channel request hangup all")
        for run in runs:
            try:
                await run.finished(timeout=60)
            except AssertionError as exc:
                print(f"  {run.name}: {exc}", flush=True)
        await self.drained()
        return Step("music" if floor else "status", callers, measured, rows, cpu, rss, ami,
                    max(load0, os.getloadavg()[0]))

    def figures(self, waiters: list[Waiter], design: str) -> dict[str, float]:
        errors = [abs(i - INTERVAL) for w in waiters for i in w.intervals()]
        median, p99, top = quantiles(errors)
        delays = [w.first_prompt - w.created for w in waiters if w.first_prompt is not None]
        d_median, d_p99, _ = quantiles(delays)
        commands = sum(w.agi_commands for w in waiters)
        waited = sum((w.ended or time.time()) - w.created for w in waiters)
        return {"callers": float(len(waiters)),
                "held": float(sum(len(w.intervals()) >= self.messages for w in waiters)),
                "intervals": float(len(errors)), "median_ms": 1000 * median,
                "p99_ms": 1000 * p99, "max_ms": 1000 * top,
                "delay_median_ms": 1000 * d_median if design == "agi" else float("nan"),
                "delay_p99_ms": 1000 * d_p99 if design == "agi" else float("nan"),
                "agi_per_caller_s": commands / waited if waited else 0.0}

    async def drained(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = await self.ami.command("core show channels count")
            if re.search(r"^0 active channels", text, re.MULTILINE):
                return
            await asyncio.sleep(1)


def print_steps(steps: Sequence[Step], messages: int) -> None:
    print(f"\nSIP callers waiting at once, half on 4 busy officers' lines (our AGI loop), half "
          f"in the front-desk queue (app_queue periodic-announce); {messages} intervals each; "
          "error = |interval - 20 s| on the PBX's clock")
    head = ("N", "design", "callers", "held", "median", "p99", "max", "T-e delay",
            "T-e p99", "AGI/s", "served")
    print("".join(f"{h:>11}" for h in head))
    for s in steps:
        for design, label in (("agi", "AGI loop"), ("queue", "app_queue"), ("floor", "music")):
            if design not in s.rows:
                continue
            r = s.rows[design]
            print(f"{s.callers:>11}{label:>11}{r['callers']:>11.0f}{r['held']:>11.0f}"
                  f"{r['median_ms']:>9.1f}ms{r['p99_ms']:>9.1f}ms{r['max_ms']:>9.1f}ms"
                  f"{r['delay_median_ms']:>9.0f}ms{r['delay_p99_ms']:>9.0f}ms"
                  f"{r['agi_per_caller_s']:>11.2f}{r['served']:>11.0f}")
    print("\nCPU (% of one core) and RSS (MB) per part; AMI per waiting caller-second "
          "(agi-server: per caller on an officer's line; monitor: per caller)")
    parts = list(steps[0].cpu) if steps else []
    print(f"{'N':>6}{'kind':>7}{'s':>5}{'load':>6}{'PBX/caller':>11}"
          + "".join(f"{p:>22}" for p in parts)
          + "".join(f"{'AMI ' + p:>26}" for p in (steps[0].ami if steps else {})))
    for s in steps:
        cells = "".join(f"{s.cpu[p]:>12.1f}%{s.rss[p]:>7.1f}MB" for p in parts)
        ami = "".join(f"{a:>12.3f} act{kb:>8.2f} KB" for a, kb in s.ami.values())
        per_caller = s.cpu.get("asterisk", 0.0) / s.callers
        print(f"{s.callers:>6}{s.kind:>7}{s.seconds:>5.0f}{s.load:>6.1f}{per_caller:>10.3f}%"
              f"{cells}{ami}")


def with_rtp_for(config: LabConfig, callers: int) -> LabConfig:
    """The lab with an RTP range of 4 ports a caller (RTP and RTCP, the caller's and a spare)
    and 200 more: the lab's own 498 ports hold about 120 calls. Its span (10 ports an offset
    step) grows to cover it, so the labs of that many offsets above must not be running."""
    span = max(config.ports.span, math.ceil((4 * callers + 200) / 10))
    return replace(config, ports=replace(config.ports, span=span))


async def run(steps: Sequence[int], floors: Sequence[int], messages: int, rate: float,
              serve: float, stop_p99_ms: float) -> list[Step]:
    config = with_rtp_for(LabConfig.from_env(), max([*steps, *floors]))
    proxies = {"agi-server": AmiCountingProxy(config.ports.ami),
               "monitor": AmiCountingProxy(config.ports.ami)}
    for proxy in proxies.values():
        await proxy.start()
    demo = Demo(config, part_env={
        "agi-server": {"CALLSLA_AGI_AMI_URL": proxies["agi-server"].url(
            config.part_ami_url("agi")), "CALLSLA_AGI_MAX_SESSIONS": str(2 * max(steps))},
        "monitor": {"CALLSLA_AMI_URL": proxies["monitor"].url(config.part_ami_url("monitor"))}})
    results: list[Step] = []
    try:
        await asyncio.to_thread(demo.start)
        async with AmiClient(port=config.ports.ami, username=config.ami_user,
                             secret=config.ami_secret, only_events=EVENTS) as ami, \
                sip_phones(demo.lab) as phones:
            bench = WaitingCallersBench(demo, phones, ami, proxies, messages, rate, serve)
            reader = asyncio.create_task(bench.watch.read(ami))
            for number, callers in enumerate(steps, start=1):
                print(f"== {callers} callers waiting ...", flush=True)
                step = await bench.step(number, callers)
                results.append(step)
                print_steps([step], messages)
                if step.rows["agi"]["p99_ms"] > stop_p99_ms:
                    print(f"  p99 above {stop_p99_ms:g} ms: no larger N", flush=True)
                    break
            for number, callers in enumerate(floors, start=len(steps) + 1):
                print(f"== {callers} callers hearing music alone ...", flush=True)
                step = await bench.step(number, callers, floor=True)
                results.append(step)
                print_steps([step], messages)
            reader.cancel()
    finally:
        demo.stop()
        for proxy in proxies.values():
            await proxy.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", default="100,200",
                        help="numbers of callers waiting at once, rising (comma-separated)")
    parser.add_argument("--floor", default="",
                        help="numbers of callers hearing music on hold alone, no status "
                             "message (what the PBX's audio costs by itself)")
    parser.add_argument("--messages", type=int, default=3, help="intervals per caller")
    parser.add_argument("--rate", type=float, default=20.0, help="callers arriving a second")
    parser.add_argument("--serve", type=float, default=8.0,
                        help="seconds the officers and receptionists are free after each step")
    parser.add_argument("--stop-p99-ms", type=float, default=2000.0,
                        help="no larger step once our p99 error is above this")
    args = parser.parse_args()
    steps = [int(s) for s in args.steps.split(",")]
    if any(n < 2 * len(OFFICERS) for n in steps) or steps != sorted(steps):
        parser.error(f"--steps: rising numbers of at least {2 * len(OFFICERS)}")
    floors = [int(s) for s in args.floor.split(",") if s]
    results = asyncio.run(run(steps, floors, args.messages, args.rate, args.serve,
                              args.stop_p99_ms))
    print("\n== all steps")
    print_steps(results, args.messages)
    return 0


if __name__ == "__main__":
    sys.exit(main())
