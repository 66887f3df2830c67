"""queue_log backfill speed (lines/s, parse → merge → SQLite store → metrics), against reading
and splitting the same file's lines alone, in the same run."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from prometheus_client import CollectorRegistry

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.core.metrics import create_call_metrics
from monitor.ingest.backfill_runner import backfill_queue_log
from monitor.ingest.recorder import Recorder
from monitor.store import open_store

CALLS = 100_000  # ~3 lines a call


def write_queue_log(path: Path, calls: int) -> int:
    lines = ["1800000000|NONE|NONE|NONE|QUEUESTART|"]
    for n in range(calls):
        t, uid = 1_800_000_000 + n * 3, f"{1_800_000_000 + n * 3}.{n}"
        lines.append(f"{t}|{uid}|frontdesk|NONE|ENTERQUEUE||03{n:08d}|1")
        if n % 10 == 9:
            lines.append(f"{t + 4}|{uid}|frontdesk|NONE|ABANDON|1|1|4")
        else:
            lines.append(f"{t + 2}|{uid}|frontdesk|Reception 1|CONNECT|2|{uid}9|2")
            lines.append(f"{t + 9}|{uid}|frontdesk|Reception 1|COMPLETEAGENT|2|7|1")
    path.write_text("\n".join(lines) + "\n")
    return len(lines)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "queue_log"
        lines = write_queue_log(path, CALLS)
        started = time.perf_counter()
        split = sum(1 for line in path.read_bytes().splitlines() if line.split(b"|"))
        bare = split / (time.perf_counter() - started)
        with open_store(f"sqlite:///{folder}/backfill.db") as store:
            recorder = Recorder(store=store, metrics=create_call_metrics(CollectorRegistry()),
                                pbx="bench")
            started = time.perf_counter()
            result = backfill_queue_log(recorder, path)
            elapsed = time.perf_counter() - started
            assert result.lines == lines, (result.lines, lines)
            assert store.count_legs() == CALLS
            again = backfill_queue_log(recorder, path)  # from the mark: nothing new
            assert again.counted == 0
    print(f"queue_log: {lines:,} lines, {CALLS:,} calls")
    print(f"read + split lines only:   {bare:12,.0f} lines/s")
    print(f"backfill (SQLite, FULL):   {lines / elapsed:12,.0f} lines/s"
          f" = {lines / elapsed / bare:.3f} x read+split; {CALLS / elapsed:,.0f} calls/s")


if __name__ == "__main__":
    main()
