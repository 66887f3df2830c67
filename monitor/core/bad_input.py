"""Bad input from outside: every case counted, at most one log line per source and kind a minute.

A feed that logs each malformed AMI event, MQTT payload or log line can be made to fill the
disk by whoever sends them; one that logs none hides a broken producer. So each bad input
increments `callsla_monitor_bad_input_total{pbx, source, kind}` and the first of a kind in a
minute is logged, with how many of that kind were not logged since.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

from prometheus_client import Counter

from monitor.core.log_gate import LOG_INTERVAL_SECONDS, LogGate
from monitor.core.terminal_text import for_terminal

# Kinds come from our own error texts, but a cap keeps the label bounded whatever they say.
MAX_KINDS_PER_SOURCE = 32
MAX_DETAIL_CHARS = 300
OTHER_KIND = "other"
_NOT_LABEL = re.compile(r"[^a-z0-9_]+")


def kind_of(error: BaseException | str) -> str:
    """A short label for an error: the text before its first ':' (the field or the event
    name our parsers put first), lowercased to `[a-z0-9_]`, at most 40 characters."""
    head = str(error).split(":", 1)[0].strip().lower()
    return _NOT_LABEL.sub("_", head).strip("_")[:40] or OTHER_KIND


class BadInputLog:
    """Counts and logs bad input for one PBX; `clock` is monotonic seconds (a fake in tests)."""

    def __init__(self, *, counter: Counter | None, pbx: str, logger: logging.Logger,
                 interval_seconds: float = LOG_INTERVAL_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.counter = counter
        self.pbx = pbx
        self.logger = logger
        self._gate = LogGate(interval_seconds=interval_seconds, clock=clock)
        self._kinds: dict[str, set[str]] = {}

    def report(self, source: str, kind: str, detail: str, *, count: int = 1) -> None:
        """Count `count` bad inputs of `kind` from `source`; log `detail` (control characters
        escaped, cut short) if this kind was not logged in the last interval."""
        if count <= 0:
            return
        kind = self._bounded(source, kind)
        if self.counter is not None:
            self.counter.labels(self.pbx, source, kind).inc(count)
        skipped = self._gate.passes((source, kind), count)
        if skipped is None:
            return
        more = f" (and {skipped} more of this kind not logged)" if skipped else ""
        shown = for_terminal(detail[:MAX_DETAIL_CHARS])
        if len(detail) > MAX_DETAIL_CHARS:
            shown += "..."
        self.logger.warning("bad %s input (%s): %s%s", source, kind, shown, more)

    def _bounded(self, source: str, kind: str) -> str:
        kinds = self._kinds.setdefault(source, set())
        if kind not in kinds:
            if len(kinds) >= MAX_KINDS_PER_SOURCE:
                return OTHER_KIND
            kinds.add(kind)
        return kind
