"""/metrics render time with 50 queues x 20 departments, against one queue in the same run.

The monitor's series are per queue (front-desk legs) or per department (officer legs): 50 + 20
label sets. The cross product (1,000 label sets, as if every queue had every department) is
rendered too, as the worst case a future label change could bring."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import generate_latest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.core.metrics import create_call_metrics
from monitor.core.records import MissedCause
from monitor.ingest.leg_counter import LegCounter


def registry_with(queues: int, departments: int, *, cross: bool) -> CollectorRegistry:
    registry = CollectorRegistry()
    metrics = create_call_metrics(registry)
    counter = LegCounter(metrics)
    names = [f"dept{d:02d}" for d in range(departments)]
    counter.declare("pbx1", queues=[f"queue{q:02d}" for q in range(queues)], departments=names)
    pairs = ([(f"queue{q:02d}", d) for q in range(queues) for d in names] if cross else
             [(f"queue{q:02d}", "") for q in range(queues)] + [("", d) for d in names])
    for queue, department in pairs:
        labels = ("pbx1", queue, department)
        metrics.calls_offered.labels(*labels).inc(100)
        metrics.calls_answered.labels(*labels).inc(90)
        metrics.answer_wait.labels(*labels).observe(7.5)
        for cause in MissedCause:
            metrics.calls_missed.labels(*labels, cause.value).inc()
        metrics.transfers_returned.labels(*labels)
        metrics.voicemails.labels(*labels)
        metrics.callers_waiting.labels(*labels).set(2)
        metrics.longest_wait.labels(*labels).set(30)
    return registry


def render_seconds(registry: CollectorRegistry, rounds: int) -> tuple[float, int]:
    size = len(generate_latest(registry))
    started = time.perf_counter()
    for _ in range(rounds):
        generate_latest(registry)
    return (time.perf_counter() - started) / rounds, size


def main() -> None:
    base, base_size = render_seconds(registry_with(1, 0, cross=False), 200)
    real, real_size = render_seconds(registry_with(50, 20, cross=False), 50)
    cross, cross_size = render_seconds(registry_with(50, 20, cross=True), 5)
    print(f"render 1 queue (baseline):              {base * 1000:8.2f} ms ({base_size:,} B)")
    print(f"render 50 queues + 20 departments:      {real * 1000:8.2f} ms ({real_size:,} B),"
          f" {real / base:.0f} x baseline")
    print(f"render 50 x 20 cross product (worst):   {cross * 1000:8.2f} ms ({cross_size:,} B),"
          f" {cross / base:.0f} x baseline")


if __name__ == "__main__":
    main()
