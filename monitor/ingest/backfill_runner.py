"""One backfill run: read a PBX log from its stored high-water mark and merge what it shows."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from monitor.backfill.cdr_csv import CdrReader
from monitor.backfill.queue_log import QueueLogReader
from monitor.backfill.window import BackfillWindow, FileMark, start_offset
from monitor.ingest.recorder import Recorder
from monitor.store import BackfillMark

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackfillResult:
    lines: int
    bad_lines: int
    counted: int  # leg transitions the store did not have yet


def backfill_queue_log(recorder: Recorder, path: Path) -> BackfillResult:
    """Merge queue_log lines written since the last run (front-desk legs)."""
    return _backfill(recorder, path, "queue_log", QueueLogReader(path, pbx=recorder.pbx).read)


def backfill_cdr_csv(recorder: Recorder, path: Path) -> BackfillResult:
    """Merge CDR CSV lines written since the last run (transfer and direct legs)."""
    return _backfill(recorder, path, "cdr_csv", CdrReader(path, pbx=recorder.pbx).read)


def _backfill(recorder: Recorder, path: Path, kind: str,
              read: Callable[[int], tuple[BackfillWindow, int]]) -> BackfillResult:
    """Safe to repeat: nothing counts twice. The mark moves only after the merge committed, so
    a crash in between re-reads the same lines and the merge finds those legs settled. The
    mark holds the file's inode too: a rotated log is read from its start."""
    pbx, store, metrics = recorder.pbx, recorder.store, recorder.metrics
    source = f"{kind}:{path}"
    mark = store.backfill_mark(pbx, source)
    inode, offset = start_offset(path, FileMark.parse(mark.position) if mark else FileMark(None, 0))
    if mark and offset == 0 and FileMark.parse(mark.position).offset:
        log.info("%s is a new file (rotated): reading it from the start", path)
    window, new_offset = read(offset)  # a rotation between stat and read re-reads: harmless
    counted = recorder.merge_backfill(window)
    last = max((leg.offered_at for leg in window.legs.values()),
               default=mark.read_until if mark else None)
    store.set_backfill_mark(BackfillMark(pbx, source, FileMark(inode, new_offset).text(), last))
    metrics.backfill_runs.labels(pbx, kind).inc()
    metrics.backfill_legs.labels(pbx, kind).inc(counted)
    if window.bad_lines:
        metrics.events_rejected.labels(pbx, kind).inc(window.bad_lines)
        recorder.bad_input.report(kind, "line", f"{window.bad_lines} lines of {path} skipped, "
                                  f"the first: {window.first_bad}", count=window.bad_lines)
    metrics.events_received.labels(pbx, kind).inc(window.lines)
    log.info("backfill from %s: %d lines (%d bad), %d leg transitions recovered at %s",
             path, window.lines, window.bad_lines, counted, datetime.now(UTC).isoformat())
    return BackfillResult(window.lines, window.bad_lines, counted)
