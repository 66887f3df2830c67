"""Memory after 1 million calls through the state machine, recorder, SQLite store and metrics.

Each call is a front-desk queue entry (join, ring, answer or abandon, hang-up) as AMI messages
(already framed: this measures state, not parsing). RSS is read at checkpoints; the baseline is
the RSS after the first 10,000 calls, in the same run. Flat means no growth with calls."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from prometheus_client import CollectorRegistry

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.ami import AmiMessage
from monitor.core.metrics import create_call_metrics
from monitor.ingest.recorder import Recorder
from monitor.store import open_store

CALLS = 1_000_000
BATCH_CALLS = 500


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def call_events(n: int) -> list[AmiMessage]:
    t = 1.8e9 + n * 3.0
    caller, linked = f"{n}.2", f"{n}.1"
    common = {"uniqueid": caller, "linkedid": linked, "queue": f"q{n % 5}",
              "calleridnum": f"03{n:08d}", "channel": f"PJSIP/trunk-{n:08x}"}
    events = [AmiMessage({"event": "QueueCallerJoin", "timestamp": f"{t}", **common}),
              AmiMessage({"event": "AgentCalled", "timestamp": f"{t + 0.1}",
                          "destchannel": f"Local/r1@lab-phones-{n:08x};1", **common})]
    if n % 10 == 9:
        events += [AmiMessage({"event": "QueueCallerAbandon", "timestamp": f"{t + 4}",
                               **common}),
                   AmiMessage({"event": "QueueCallerLeave", "timestamp": f"{t + 4}", **common})]
    else:
        events += [AmiMessage({"event": "QueueCallerLeave", "timestamp": f"{t + 2}", **common}),
                   AmiMessage({"event": "AgentConnect", "timestamp": f"{t + 2}",
                               "membername": "Reception 1", **common})]
    events += [AmiMessage({"event": "Hangup", "timestamp": f"{t + 9}", **common}),
               AmiMessage({"event": "Hangup", "timestamp": f"{t + 9}", "uniqueid": linked,
                           "linkedid": linked, "channel": f"Local/x-{n:08x};1"}),
               AmiMessage({"event": "Hangup", "timestamp": f"{t + 9}",
                           "uniqueid": f"{n}.3", "linkedid": linked,
                           "channel": f"Local/r1@lab-phones-{n:08x};1"})]
    return events


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else CALLS
    checkpoints = {10_000, calls // 4, calls // 2, 3 * calls // 4, calls}
    with tempfile.TemporaryDirectory() as folder, \
            open_store(f"sqlite:///{folder}/memory.db") as store:
        registry = CollectorRegistry()
        recorder = Recorder(store=store, metrics=create_call_metrics(registry), pbx="bench")
        start_rss, started = rss_mb(), time.perf_counter()
        print(f"RSS before any call: {start_rss:7.1f} MB")
        baseline = 0.0
        for first in range(0, calls, BATCH_CALLS):
            batch = [e for n in range(first, first + BATCH_CALLS) for e in call_events(n)]
            recorder.on_ami_events(batch)
            done = first + BATCH_CALLS
            if done in checkpoints:
                rss = rss_mb()
                baseline = baseline or rss
                print(f"after {done:>9,} calls: RSS {rss:7.1f} MB ({rss - baseline:+6.1f} MB vs "
                      f"10,000 calls), tracked in memory {recorder.tracker.tracked}, "
                      f"{done / (time.perf_counter() - started):,.0f} calls/s")
        offered = registry.get_sample_value("callsla_calls_offered_total",
                                            {"pbx": "bench", "queue": "q0", "department": ""})
        assert offered == calls / 5, offered
        assert store.count_legs() == calls
        started = time.perf_counter()
        rebuilt = Recorder(store=store, metrics=create_call_metrics(CollectorRegistry()),
                           pbx="bench")
        legs = rebuilt.start()
        print(f"restart: counters rebuilt from {legs:,} stored legs in "
              f"{time.perf_counter() - started:.1f} s, RSS {rss_mb():.1f} MB")


if __name__ == "__main__":
    main()
