"""Exports and the quarterly report on a generated quarter, against plain `pandas.read_sql`.

    .venv/bin/python bench/bench_reports.py [--calls 1000000] [--db PATH] [--formats csv,xlsx]

Fills a SQLite store with a generated quarter (reused when it already holds that many calls),
then runs each measurement in its own process so its peak memory (ru_maxrss) is its own:
the baseline `pandas.read_sql` of the same rows, `callsla export` per format, and
`callsla report` (xlsx, and pdf whose Chromium child is not in the figure). Targets (issue 6):
1 million calls exported in under 60 s with under 2 GB peak.
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
QUARTER = "2026Q3"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _fill(db: Path, calls: int) -> None:
    from lab.synthetic_quarter import fill_store, generate_quarter
    from monitor.core.charter import load_charter
    from monitor.reports.periods import parse_quarter
    from monitor.store import open_store

    marker = db.with_suffix(".calls")
    if db.exists() and marker.exists() and marker.read_text() == str(calls):
        print(f"store: reusing {db} ({calls} calls)")
        return
    db.unlink(missing_ok=True)
    charter = load_charter()
    period = parse_quarter(QUARTER, charter.timezone)
    started = time.perf_counter()
    with open_store(f"sqlite:///{db}") as store:
        legs = fill_store(store, generate_quarter(period, charter, calls=calls))
    marker.write_text(str(calls))
    print(f"store: {calls} calls, {legs} legs generated and saved in "
          f"{time.perf_counter() - started:.1f} s")


def _one(task: str, db: Path, out_dir: Path) -> dict[str, object]:
    """Runs in a child process: one measurement, its wall time and its own peak memory."""
    from monitor.core.charter import load_charter
    from monitor.reports.periods import parse_quarter

    charter = load_charter()
    period = parse_quarter(QUARTER, charter.timezone)
    started = time.perf_counter()
    rows = 0
    if task == "read_sql":
        import pandas as pd

        from monitor.store._dialect import SQLITE

        with sqlite3.connect(db) as conn:
            frame = pd.read_sql("SELECT * FROM call_legs WHERE offered_at >= ? AND offered_at < ?",
                                conn, params=(SQLITE.time_param(period.start),
                                              SQLITE.time_param(period.end)))
        rows = len(frame)
    elif task.startswith("export-"):
        from monitor.reports.export import ExportRequest, export_calls
        from monitor.reports.report_store import ReportStore
        from monitor.store import open_store

        fmt = task.removeprefix("export-")
        with open_store(f"sqlite:///{db}") as store:
            entry = export_calls(ReportStore(store), charter, ExportRequest(
                period=period, fmt=fmt, out=out_dir / f"legs.{fmt}",  # type: ignore[arg-type]
                progress=False))
        rows = entry.row_count
    elif task.startswith("report-"):
        from monitor.reports.report import report_and_log
        from monitor.reports.report_store import ReportStore
        from monitor.store import open_store

        fmt = task.removeprefix("report-")
        with open_store(f"sqlite:///{db}") as store:
            report = report_and_log(ReportStore(store), charter, period, fmt,  # type: ignore[arg-type]
                                    out_dir / f"report.{fmt}")
        rows = report.leg_count
    else:
        raise SystemExit(f"unknown task {task}")
    seconds = time.perf_counter() - started
    return {"task": task, "seconds": seconds, "rows": rows, "peak_mb": _peak_mb()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=100_000,
                        help="calls in the generated quarter (the issue's target is 1000000)")
    parser.add_argument("--db", type=Path, default=None, help="store file (kept for reuse)")
    parser.add_argument("--formats", default="csv,parquet,xlsx")
    parser.add_argument("--reports", default="xlsx,pdf")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out-dir", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    db = args.db or Path(tempfile.gettempdir()) / f"callsla-bench-{args.calls}.db"
    if args.one:
        print(json.dumps(_one(args.one, db, args.out_dir)))
        return 0
    _fill(db, args.calls)
    tasks = ["read_sql", *(f"export-{f}" for f in args.formats.split(",") if f),
             *(f"report-{f}" for f in args.reports.split(",") if f)]
    results = []
    with tempfile.TemporaryDirectory(prefix="callsla-bench-") as out_dir:
        for task in tasks:
            done = subprocess.run([sys.executable, str(HERE), "--one", task, "--db", str(db),
                                   "--calls", str(args.calls), "--out-dir", out_dir],
                                  capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(f"{task}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
                return 1
            result = json.loads(done.stdout.strip().splitlines()[-1])
            results.append(result)
            print(f"{task:16s} {result['seconds']:7.1f} s  {result['peak_mb']:7.0f} MB peak  "
                  f"{result['rows']} rows", flush=True)
    base = results[0]["seconds"]
    print(f"\nbaseline pandas.read_sql: {base:.1f} s for {results[0]['rows']} legs "
          f"({args.calls} calls); target: export of 1M calls < 60 s, < 2048 MB")
    for result in results[1:]:
        ok = result["seconds"] < 60 * args.calls / 1_000_000 and result["peak_mb"] < 2048
        print(f"  {result['task']:16s} x{result['seconds'] / base:5.1f} of read_sql, "
              f"{'within' if ok else 'OUTSIDE'} the target scaled to {args.calls} calls")
    return 0


if __name__ == "__main__":
    sys.exit(main())
