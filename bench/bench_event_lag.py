"""Event lag under load (issue 10): from the PBX's event to the counter on /metrics, median and
p99, at rising call rates with every part of the product running; then every call counted once.

The lab as `make demo` starts it (Asterisk, Mosquitto, Prometheus scraping every second,
PostgreSQL with `--postgres`, the agi-server, the monitor). SIP callers on the trunk, one SIPp
a step placing `rate` calls a second, ring the front desk, whose positions are SIP phones (the
three receptionists and the five officers' phones with a static contact: the queue rings a
position only when it is free, so each answers about 3 calls a second and three alone would be
the limit near 9) answering after `--answer-after` s and hanging up after `--talk` s. An AMI
connection of the bench's own collects the PBX's `Timestamp:` of each `QueueCallerJoin` (the
monitor counts `callsla_calls_offered_total` on it) and `AgentConnect`
(`callsla_calls_answered_total`); a thread polls /metrics every `--poll-ms` ms. A counter is
monotone, so the k-th call by PBX time is visible at the first poll that reads k or more
(bench/lag_pairing.py). Each step runs `--step-seconds`, then waits for its callers to hang up;
the rate stops rising when a step's p99 passes `--lag-limit`, a call is not answered or not
counted, or SIPp cannot place calls at the rate asked.

Run: `CALLSLA_LAB_PORT_OFFSET=... .venv/bin/python bench/bench_event_lag.py` (about 3.5
minutes);
`--rates 1,2 --step-seconds 8` for a quick look.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.count_checks import print_checks
from bench.demo_parts import children_by_parent, cpu_seconds, parts_of
from bench.lag_pairing import CounterSample, VisibleLag, nearest_rank, visible_lags
from bench.metrics_page import MetricsPage, metric_sums, queue_counters
from lab import LabConfig
from lab.demo import Demo
from lab.processes import LabStartError
from lab.sip import phonebook
from lab.sip.phones import ScenarioError, SipPhones, SippRun, sip_phones
from lab.sip.scenarios import Answer
from monitor.ami import AmiClient, AmiMessage
from monitor.core.records import LegKind, Outcome
from monitor.store import open_store

PBX = "lab"  # the demo's CALLSLA_PBX
QUEUE = "frontdesk"
OFFERED, ANSWERED = "callsla_calls_offered_total", "callsla_calls_answered_total"
COUNTED_BY = {"QueueCallerJoin": OFFERED, "AgentConnect": ANSWERED}  # monitor/ingest/call_state
POSITIONS = phonebook.RECEPTIONISTS + tuple(ext for ext in phonebook.OFFICERS
                                            if ext not in phonebook.REGISTERING)
NUMBER_PREFIX = "0399"  # + the step's two digits + SIPp's call number: every caller apart
DEFAULT_RATES = (2.0, 4.0, 8.0, 12.0, 16.0, 20.0, 23.0, 26.0, 30.0, 35.0)  # calls a second
IDLE_SECONDS = 5.0  # before the first call: the parts' CPU with only the poll running
SETTLE_SECONDS = 3.0  # the monitor's last counts after the last hang-up
CPU_PARTS = ("asterisk", "monitor", "agi-server", "mosquitto", "prometheus", "postgres",
             "sipp", "bench")


# ---- what is collected --------------------------------------------------------------------

class CounterPoller:
    """A thread polling /metrics every `period` s (the asyncio loop reads AMI meanwhile):
    (sent, received, value) of the front desk's offered and answered counters."""

    def __init__(self, page: MetricsPage, period: float) -> None:
        self.page = page
        self.period = period
        self.samples: dict[str, list[CounterSample]] = {OFFERED: [], ANSWERED: []}
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="metrics-poller", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.page.close()

    def _poll(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            sent = time.time()
            try:
                text = self.page.text()
            except OSError:
                self.errors += 1
            else:
                received = time.time()
                offered, answered = queue_counters(text, (OFFERED, ANSWERED), QUEUE)
                self.samples[OFFERED].append(CounterSample(sent, received, offered))
                self.samples[ANSWERED].append(CounterSample(sent, received, answered))
            next_at += self.period
            # A slow poll is not caught up with a burst: the next one a period after it.
            next_at = max(next_at, time.monotonic())
            self._stop.wait(next_at - time.monotonic())


@dataclass(frozen=True)
class PbxEvent:
    at: float  # the PBX's Timestamp, epoch seconds
    number: str


async def collect_events(ami: AmiClient, into: dict[str, list[PbxEvent]]) -> None:
    """The bench's callers' queue events, by the counter each one moves."""
    async for event in ami.events():
        counter = COUNTED_BY.get(event.event or "")
        number = event.get("calleridnum", "")
        if counter and event.get("queue") == QUEUE and number.startswith(NUMBER_PREFIX):
            into[counter].append(PbxEvent(_timestamp(event), number))


def _timestamp(event: AmiMessage) -> float:
    return float(event["timestamp"])  # the lab's manager.conf: timestampevents = yes


# ---- one step of the rising rate -------------------------------------------------------

@dataclass
class Step:
    index: int
    rate: float
    calls: int
    run: SippRun
    seconds: float  # wall-clock seconds placing calls
    cpu_percent: dict[str, float]  # of one core, while placing
    load: tuple[float, float, float]
    failure: str = ""  # the callers' SIPp's account, if it did not end well

    @property
    def prefix(self) -> str:
        return f"{NUMBER_PREFIX}{self.index:02d}"


@dataclass(frozen=True)
class LagFigures:
    count: int
    unseen: int  # counted events no poll ever showed
    median: float
    p99: float
    max: float
    resolution: float  # median half-width of the poll window


def lag_figures(lags: Sequence[VisibleLag | None]) -> LagFigures:
    seen = [lag for lag in lags if lag is not None]
    values = [lag.lag for lag in seen]
    return LagFigures(
        count=len(lags), unseen=len(lags) - len(seen),
        median=statistics.median(values) if values else float("nan"),
        p99=nearest_rank(values, 0.99), max=max(values, default=float("nan")),
        resolution=statistics.median(lag.resolution for lag in seen) if seen else float("nan"))


@dataclass
class EventLagBench:
    demo: Demo
    rates: Sequence[float]
    step_seconds: float
    poll_seconds: float
    answer_after: float
    talk: float
    patience: float
    lag_limit: float
    positions: Sequence[str] = POSITIONS
    steps: list[Step] = field(default_factory=list)
    events: dict[str, list[PbxEvent]] = field(
        default_factory=lambda: {OFFERED: [], ANSWERED: []})
    stop_reason: str = ""
    idle_cpu_percent: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        config = self.demo.config
        self.poller = CounterPoller(MetricsPage("127.0.0.1", config.ports.metrics),
                                    self.poll_seconds)
        self.baseline: dict[str, float] = {}

    def lags(self, counter: str) -> dict[str, VisibleLag | None]:
        """Caller number -> the lag of its event that moves `counter`."""
        events = self.events[counter]
        samples = list(self.poller.samples[counter])
        found = visible_lags([e.at for e in events], samples, baseline=self.baseline[counter])
        return {e.number: lag for e, lag in zip(events, found, strict=True)}

    def step_lags(self, step: Step, counter: str) -> LagFigures:
        return lag_figures([lag for number, lag in self.lags(counter).items()
                            if number.startswith(step.prefix)])

    def achieved_rate(self, step: Step) -> float:
        """Calls a second the PBX saw arrive (its QueueCallerJoin times)."""
        times = sorted(e.at for e in self.events[OFFERED] if e.number.startswith(step.prefix))
        if len(times) < 2 or times[-1] == times[0]:
            return float("nan")
        return (len(times) - 1) / (times[-1] - times[0])

    async def idle_cpu(self, phones: SipPhones, seconds: float) -> dict[str, float]:
        """CPU % of each part with no call up, the poll running: what the poll itself costs."""
        before, started = self.cpu(phones), time.monotonic()
        await asyncio.sleep(seconds)
        after, took = self.cpu(phones), time.monotonic() - started
        return {name: 100 * (after[name] - before.get(name, 0.0)) / took for name in after}

    def cpu(self, phones: SipPhones) -> dict[str, float]:
        children = children_by_parent()
        pids = {name: [pid] for name, pid in parts_of(self.demo).items()}
        pids["sipp"] = [run.process.process.pid for run in phones.runs
                        if run.process.process is not None and run.returncode is None]
        found = {name: cpu_seconds(tree, children) for name, tree in pids.items()}
        mine = os.times()
        found["bench"] = mine.user + mine.system
        return found

    async def one_step(self, phones: SipPhones, index: int, rate: float) -> Step:
        calls = max(1, round(rate * self.step_seconds))
        prefix = f"{NUMBER_PREFIX}{index:02d}"
        before, started = self.cpu(phones), time.monotonic()
        run = phones.calls_in(calls, numbers=prefix, per_second=rate, patience=self.patience)
        await asyncio.sleep(calls / rate)
        # Read while this step's SIPp still runs: a process that has exited takes its CPU time.
        after, seconds = self.cpu(phones), time.monotonic() - started
        cpu_percent = {name: 100 * (after[name] - before.get(name, 0.0)) / seconds
                       for name in after}
        step = Step(index=index, rate=rate, calls=calls, run=run, seconds=seconds,
                    cpu_percent=cpu_percent, load=os.getloadavg())
        try:
            await run.finished(timeout=self.patience + 60)
        except ScenarioError as exc:
            # SIPp's own summary; its errors.log (in the run's folder) says which calls.
            step.failure = f"{str(exc).partition(': errors.log')[0]} (see {run.folder})"
        await asyncio.sleep(SETTLE_SECONDS)  # the last calls' counts reach a poll
        return step

    def why_stop(self, step: Step) -> str:
        """Why the rate should not rise past this step ("" if it may)."""
        answered = self.step_lags(step, ANSWERED)
        offered = self.step_lags(step, OFFERED)
        achieved = self.achieved_rate(step)
        if step.failure:
            return f"callers failed: {step.failure}"
        if answered.count < step.calls or offered.count < step.calls:
            return (f"{step.calls - answered.count} of {step.calls} calls not answered "
                    f"({step.calls - offered.count} never queued)")
        if answered.unseen or offered.unseen:
            return f"{answered.unseen + offered.unseen} counts never seen on /metrics"
        if max(answered.p99, offered.p99) > self.lag_limit:
            return f"lag p99 over {self.lag_limit:g} s"
        if step.calls > 1 and achieved < 0.9 * step.rate:
            return f"SIPp placed {achieved:.1f} calls/s of {step.rate:g}"
        return ""

    async def run(self) -> Totals:
        config = self.demo.config
        since = datetime.now(UTC)
        async with AmiClient(port=config.ports.ami, username=config.ami_user,
                             secret=config.ami_secret,
                             only_events=frozenset(COUNTED_BY)) as ami, \
                sip_phones(self.demo.lab) as phones:
            await phones.use_front_desk(self.positions, strategy="rrmemory")
            started = [phones.phone(ext, Answer(after=self.answer_after, talk=self.talk),
                                    calls=None) for ext in self.positions]
            for phone in started:
                await phone.ready_for(0)
            collector = asyncio.create_task(collect_events(ami, self.events))
            before = await asyncio.to_thread(metric_sums, self.demo.urls.metrics)
            self.poller.start()
            try:
                await asyncio.sleep(1.0)  # polls before the first call: the baseline
                self.baseline = {name: samples[0].value
                                 for name, samples in self.poller.samples.items()}
                self.idle_cpu_percent = await self.idle_cpu(phones, IDLE_SECONDS)
                for index, rate in enumerate(self.rates, start=1):
                    step = await self.one_step(phones, index, rate)
                    self.steps.append(step)
                    self.stop_reason = self.why_stop(step)
                    print(live_line(self, step), flush=True)
                    if self.stop_reason:
                        print(f"  not raising the rate: {self.stop_reason}", flush=True)
                        break
            finally:
                self.poller.stop()
                collector.cancel()
                await asyncio.gather(collector, return_exceptions=True)
            exits = Counter(step.run.returncode for step in self.steps)
        after = await asyncio.to_thread(metric_sums, self.demo.urls.metrics)
        answered_after = self.poller.samples[ANSWERED][-1].value
        return Totals(placed=sum(s.calls for s in self.steps), exits=exits, before=before,
                      after=after, answered_delta=answered_after - self.baseline[ANSWERED],
                      since=since)


# ---- what is printed ----------------------------------------------------------------------

def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def live_line(bench: EventLagBench, step: Step) -> str:
    offered, answered = bench.step_lags(step, OFFERED), bench.step_lags(step, ANSWERED)
    return (f"[step {step.index}] {step.rate:g} calls/s asked, "
            f"{bench.achieved_rate(step):.2f} achieved, {step.calls} calls: lag offered "
            f"{_ms(offered.median)}/{_ms(offered.p99)} ms, answered {_ms(answered.median)}/"
            f"{_ms(answered.p99)} ms (median/p99); load {step.load[0]:.2f}")


def print_table(bench: EventLagBench) -> None:
    parts = [p for p in CPU_PARTS if any(p in s.cpu_percent for s in bench.steps)]
    print(f"\nevent -> visible on /metrics, ms (poll every {bench.poll_seconds * 1000:g} ms; "
          f"lag = middle of the poll window, ± the 'res' column); CPU % of one core while "
          f"placing")
    head = (f"{'calls/s':>7} {'achvd':>6} {'calls':>5} | {'offered: p50':>12} {'p99':>5} "
            f"{'max':>5} | {'answered: p50':>13} {'p99':>5} {'max':>5} {'res':>4} | "
            + " ".join(f"{p[:9]:>9}" for p in parts) + f" | {'load 1m':>7}")
    print(head)
    idle = " ".join(f"{bench.idle_cpu_percent.get(p, float('nan')):9.1f}" for p in parts)
    print(f"{'idle':>7} {'':>6} {0:5d} | {'':>12} {'':>5} {'':>5} | {'':>13} {'':>5} {'':>5} "
          f"{'':>4} | {idle} |")
    for step in bench.steps:
        o, a = bench.step_lags(step, OFFERED), bench.step_lags(step, ANSWERED)
        cpu = " ".join(f"{step.cpu_percent.get(p, float('nan')):9.1f}" for p in parts)
        print(f"{step.rate:7g} {bench.achieved_rate(step):6.2f} {step.calls:5d} | "
              f"{_ms(o.median):>12} {_ms(o.p99):>5} {_ms(o.max):>5} | {_ms(a.median):>13} "
              f"{_ms(a.p99):>5} {_ms(a.max):>5} {_ms(a.resolution):>4} | {cpu} | "
              f"{step.load[0]:7.2f}")
    sustained = [s for s in bench.steps if s is not bench.steps[-1] or not bench.stop_reason]
    if sustained:
        best = sustained[-1]
        a = bench.step_lags(best, ANSWERED)
        print(f"highest rate sustained: {best.rate:g} calls/s asked "
              f"({bench.achieved_rate(best):.2f} achieved), answered lag median "
              f"{_ms(a.median)} ms, p99 {_ms(a.p99)} ms")
    print("stopped at: " + (bench.stop_reason or "the last rate asked (none failed)"))
    print(f"/metrics polls: {len(bench.poller.samples[ANSWERED])} "
          f"({bench.poller.errors} failed)")


# ---- every call counted once ------------------------------------------------------------

@dataclass
class Totals:
    placed: int
    exits: Counter[int | None]  # callers' SIPp exit codes by step
    before: dict[str, float]
    after: dict[str, float]
    answered_delta: float  # the front desk's answered on /metrics, from the bench's polls
    since: datetime


def check_counts(bench: EventLagBench, totals: Totals, db_url: str) -> bool:
    """Every call the PBX took counted once: its queue entries (QueueCallerJoin) = offered on
    /metrics = front-desk legs in the store, each caller's number once, and its answers
    (AgentConnect) = answered on /metrics = answered legs. Apart from that, and not a counting
    error: calls placed that the PBX never queued or nobody answered (the last step's, when
    the rate stopped rising because calls failed)."""
    joined = Counter(e.number for e in bench.events[OFFERED])
    connected = Counter(e.number for e in bench.events[ANSWERED])
    with open_store(db_url) as store:
        legs = [leg for leg in store.legs_between(totals.since - timedelta(minutes=1),
                                                  datetime.now(UTC) + timedelta(minutes=1),
                                                  pbx=PBX)
                if leg.caller_number.startswith(NUMBER_PREFIX)]
    front_desk = Counter(leg.caller_number for leg in legs if leg.kind is LegKind.FRONT_DESK)
    answered_legs = sum(1 for leg in legs if leg.answered_at is not None)
    in_progress = sum(1 for leg in legs if leg.outcome is Outcome.IN_PROGRESS)
    offered_delta = totals.after.get("offered_frontdesk", 0.0) - totals.before.get(
        "offered_frontdesk", 0.0)
    queued, answered = sum(joined.values()), sum(connected.values())
    print("\nevery call served?")
    served = print_checks([
        ("calls placed (SIPp callers on the trunk)", totals.placed, None),
        ("  callers' SIPp exit codes, one a step", dict(totals.exits), None),
        ("  not queued by the PBX (no QueueCallerJoin)", totals.placed - len(joined), 0),
        ("  queued, not answered (no AgentConnect)", len(set(joined) - set(connected)), 0),
    ], width=66, ok_text="every call placed was answered",
        bad_text="CALLS FAILED (see the last step's stop reason)")
    print("\nevery call counted once?")
    return print_checks([
        ("queue entries the PBX reported (QueueCallerJoin)", queued, None),
        ("  callers with more than one", sum(1 for n in joined.values() if n > 1), 0),
        ("offered on /metrics (front desk) since the start", offered_delta, float(queued)),
        ("front-desk legs in the store", sum(front_desk.values()), queued),
        ("  callers queued with no leg", len(set(joined) - set(front_desk)), 0),
        ("  callers with more than one", sum(1 for n in front_desk.values() if n > 1), 0),
        ("  other legs of the bench's callers (returned, transfers)",
         len(legs) - sum(front_desk.values()), 0),
        ("answers the PBX reported (AgentConnect)", answered, None),
        ("answered on /metrics (front desk) since the start", totals.answered_delta,
         float(answered)),
        ("answered legs in the store", answered_legs, answered),
        ("legs still in progress", in_progress, 0),
    ], width=66, ok_text="every call placed was counted once" if served else
        "every call the PBX took was counted once")


def _rates(text: str) -> list[float]:
    rates = [float(r) for r in text.split(",") if r.strip()]
    if not rates or any(r <= 0 for r in rates):
        raise argparse.ArgumentTypeError(f"rates must be positive: {text!r}")
    return rates


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=_rates, default=list(DEFAULT_RATES),
                        help="calls a second, one step each, rising (default "
                        f"{','.join(f'{r:g}' for r in DEFAULT_RATES)})")
    parser.add_argument("--step-seconds", type=float, default=15.0,
                        help="seconds of calls at each rate")
    parser.add_argument("--poll-ms", type=float, default=25.0, help="/metrics poll period")
    parser.add_argument("--answer-after", type=float, default=0.1, help="ring, seconds")
    parser.add_argument("--talk", type=float, default=0.2, help="talk, seconds")
    parser.add_argument("--patience", type=float, default=30.0,
                        help="a caller hangs up this long after the PBX answers")
    parser.add_argument("--lag-limit", type=float, default=1.0,
                        help="stop raising the rate when a step's lag p99 passes this (s)")
    parser.add_argument("--postgres", action="store_true", help="the store in PostgreSQL")
    args = parser.parse_args()
    config = LabConfig.from_env()
    demo = Demo(config, postgres=args.postgres)
    print(f"event lag: starting the lab, the agi-server and the monitor (offset "
          f"{config.ports.offset}; logs in {config.lab_dir / 'run'}); load average "
          f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)
    try:
        demo.start()
        db_url = config.postgres_url if args.postgres else \
            f"sqlite:///{demo.demo_dir / 'callsla.db'}"
        bench = EventLagBench(demo, rates=args.rates, step_seconds=args.step_seconds,
                              poll_seconds=args.poll_ms / 1000, answer_after=args.answer_after,
                              talk=args.talk, patience=args.patience, lag_limit=args.lag_limit)
        print(f"front desk: SIP phones {', '.join(bench.positions)} (ring {args.answer_after:g}"
              f" s, talk {args.talk:g} s); rates {', '.join(f'{r:g}' for r in args.rates)} "
              f"calls/s, {args.step_seconds:g} s each", flush=True)
        totals = asyncio.run(bench.run())
        print_table(bench)
        return 0 if check_counts(bench, totals, db_url) else 1
    except LabStartError as exc:
        print(f"event lag: {exc}", file=sys.stderr)
        return 1
    finally:
        demo.stop()


if __name__ == "__main__":
    sys.exit(main())
