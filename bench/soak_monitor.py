"""The monitor exactly as `python -m monitor monitor` runs it, plus reports on its Python heap
for bench/bench_soak.py (not a benchmark of its own).

Each signal appends one JSON line to $CALLSLA_SOAK_HEAP_FILE. SIGUSR1: the interpreter's
allocated blocks and the objects the garbage collector tracks (cheap: tens of milliseconds),
and the traced heap when tracing. With $CALLSLA_SOAK_TRACEMALLOC a number of frames
(tracemalloc is off by default: it slows every allocation and doubles the heap), SIGUSR2 takes a
snapshot: the first is the baseline, each later one reports the source lines whose allocations
grew most since it (seconds on a busy machine, with the monitor's event loop held meanwhile).
"""

from __future__ import annotations

import gc
import json
import os
import runpy
import signal
import sys
import time
import tracemalloc
from types import FrameType

REPORT_FILE = os.environ.get("CALLSLA_SOAK_HEAP_FILE", "")
TRACE_FRAMES = int(os.environ.get("CALLSLA_SOAK_TRACEMALLOC", "0") or 0)
TOP_LINES = 10
# Allocations of the measuring itself and of imports are not the monitor's.
IGNORED = (tracemalloc.Filter(False, tracemalloc.__file__),
           tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
           tracemalloc.Filter(False, "<frozen importlib._bootstrap_external>"),
           tracemalloc.Filter(False, "<unknown>"))

_baseline: tracemalloc.Snapshot | None = None


def _snapshot() -> tracemalloc.Snapshot:
    return tracemalloc.take_snapshot().filter_traces(IGNORED)


def heap_figures() -> dict[str, object]:
    figures: dict[str, object] = {"time": time.time(), "blocks": sys.getallocatedblocks(),
                                  "objects": len(gc.get_objects())}
    if tracemalloc.is_tracing():
        figures["traced_mb"] = tracemalloc.get_traced_memory()[0] / 2**20
    return figures


def heap_growth() -> dict[str, object]:
    """The baseline, the first time; then what grew since it, by source line."""
    global _baseline
    started = time.monotonic()
    snapshot = _snapshot()
    figures: dict[str, object] = {"time": time.time()}
    if _baseline is None:
        _baseline = snapshot
        figures["baseline"] = True
    else:
        figures["growth"] = [
            {"where": str(stat.traceback[0]), "kib": stat.size_diff / 1024,
             "blocks": stat.count_diff}
            for stat in snapshot.compare_to(_baseline, "lineno")[:TOP_LINES]]
        if TRACE_FRAMES > 1:  # whole tracebacks: who called the growing line
            figures["tracebacks"] = [
                {"kib": stat.size_diff / 1024, "frames": [str(f) for f in stat.traceback]}
                for stat in snapshot.compare_to(_baseline, "traceback")[:3]]
    figures["took_s"] = time.monotonic() - started  # the monitor's loop waited this long
    return figures


def _write(figures: dict[str, object]) -> None:
    if REPORT_FILE:
        with open(REPORT_FILE, "a") as out:
            out.write(json.dumps(figures) + "\n")


def _report(_signum: int, _frame: FrameType | None) -> None:
    _write(heap_figures())


def _snapshot_report(_signum: int, _frame: FrameType | None) -> None:
    if tracemalloc.is_tracing():
        _write(heap_growth())
    else:
        _write({"time": time.time(), "tracing": False})


def main() -> None:
    if TRACE_FRAMES > 0:
        tracemalloc.start(TRACE_FRAMES)
    signal.signal(signal.SIGUSR1, _report)
    signal.signal(signal.SIGUSR2, _snapshot_report)
    sys.argv = ["callsla", "monitor", *sys.argv[1:]]
    runpy.run_module("monitor", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
