"""The built-in wallboard: reads the monitor's counters every few seconds, serves page and JSON."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from importlib import resources

from prometheus_client import CollectorRegistry

from monitor.core.charter import Charter
from monitor.core.metrics import (
    ANSWER_WAIT_BUCKETS,
    STATUS_INTERVAL_BUCKETS,
    STATUS_TOLERANCE_SECONDS,
)
from monitor.live.http_server import Page
from monitor.live.wallboard.figures import WallboardFigures, compute_figures, window_samples
from monitor.live.wallboard.snapshots import SnapshotHistory, read_snapshot

READ_EVERY_SECONDS = 5.0

Response = tuple[str, str, bytes]


class Wallboard:
    """Owns the counter history; `pages()` gives the HTTP server its two routes."""

    def __init__(self, registry: CollectorRegistry, *, charter: Charter) -> None:
        if charter.answer_within_seconds not in ANSWER_WAIT_BUCKETS:
            raise ValueError(f"charter answer_within_seconds={charter.answer_within_seconds} "
                             f"is not a bucket of callsla_answer_wait_seconds")
        if charter.status_interval_seconds + STATUS_TOLERANCE_SECONDS not in (
                STATUS_INTERVAL_BUCKETS):
            raise ValueError(f"charter status_interval_seconds={charter.status_interval_seconds}"
                             f" + 1 s is not a bucket of the status-interval histogram")
        self._registry = registry
        self._charter = charter
        self._history: SnapshotHistory | None = None
        page = resources.files("monitor.live.wallboard").joinpath("wallboard.html")
        self._page = page.read_bytes()

    def begin(self) -> None:
        """Take the first reading: every window starts here or later. Call it once the
        counters hold what the store rebuilt, before new calls are counted."""
        if self._history is None:
            first = read_snapshot(self._registry, now=datetime.now(UTC))
            self._history = SnapshotHistory(timezone=self._charter.timezone, first=first,
                                            keep=window_samples(self._charter))

    def figures(self) -> WallboardFigures:
        """Figures now; the reading is also kept for the 15-minute and daily windows."""
        self.begin()
        assert self._history is not None
        now = read_snapshot(self._registry, now=datetime.now(UTC))
        self._history.add(now)
        return compute_figures(now=now, window_start=self._history.window_start(now.monotonic),
                               day_start=self._history.day_start(), charter=self._charter,
                               monitor_started=self._history.start())

    async def run(self) -> None:
        """Read the counters every few seconds, so the windows exist even with no viewer."""
        while True:
            self.figures()
            await asyncio.sleep(READ_EVERY_SECONDS)

    def pages(self) -> dict[str, Page]:
        return {"/wallboard": self._html, "/wallboard.json": self._json}

    def _html(self) -> Response:
        return "200 OK", "text/html; charset=utf-8", self._page

    def _json(self) -> Response:
        body = json.dumps(self.figures().as_json(), ensure_ascii=False).encode()
        return "200 OK", "application/json; charset=utf-8", body
