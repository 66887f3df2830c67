"""One backfill run: read queue_log from the stored high-water mark and merge what it shows."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from monitor.backfill.queue_log import QueueLogReader
from monitor.recorder import Recorder
from monitor.store import BackfillMark

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackfillResult:
    lines: int
    bad_lines: int
    counted: int  # leg transitions the store did not have yet


def backfill_queue_log(recorder: Recorder, path: Path) -> BackfillResult:
    """Merge queue_log lines written since the last run; safe to repeat (nothing counts twice).

    The mark moves only after the merge committed: a crash in between re-reads the same lines,
    and the merge finds those legs already settled.
    """
    pbx, store, metrics = recorder.pbx, recorder.store, recorder.metrics
    source = f"queue_log:{path}"
    mark = store.backfill_mark(pbx, source)
    offset = int(mark.position) if mark and mark.position.isdigit() else 0
    window, new_offset = QueueLogReader(path, pbx=pbx).read(offset)
    counted = recorder.merge_backfill(window)
    last = max((leg.offered_at for leg in window.legs.values()),
               default=mark.read_until if mark else None)
    store.set_backfill_mark(BackfillMark(pbx, source, str(new_offset), last))
    metrics.backfill_runs.labels(pbx, "queue_log").inc()
    metrics.backfill_legs.labels(pbx, "queue_log").inc(counted)
    if window.bad_lines:
        metrics.events_rejected.labels(pbx, "queue_log").inc(window.bad_lines)
    metrics.events_received.labels(pbx, "queue_log").inc(window.lines)
    log.info("backfill from %s: %d lines (%d bad), %d leg transitions recovered at %s",
             path, window.lines, window.bad_lines, counted, datetime.now(UTC).isoformat())
    return BackfillResult(window.lines, window.bad_lines, counted)
