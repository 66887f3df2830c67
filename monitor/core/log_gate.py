"""At most one log line per key an interval: a fault that repeats each second is logged once a
minute, with how many times it happened in between, not thousands of times an hour."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable

LOG_INTERVAL_SECONDS = 60.0


class LogGate:
    """`passes(key)` says whether to log now; `clock` is monotonic seconds (a fake in tests)."""

    def __init__(self, *, interval_seconds: float = LOG_INTERVAL_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.interval_seconds = interval_seconds
        self.clock = clock
        self._last: dict[Hashable, float] = {}
        self._held: dict[Hashable, int] = {}

    def passes(self, key: Hashable, count: int = 1) -> int | None:
        """None: hold this line back (counted). Otherwise log it, saying the returned number
        of occurrences since the last line that were not logged."""
        now = self.clock()
        last = self._last.get(key)
        if last is not None and now - last < self.interval_seconds:
            self._held[key] = self._held.get(key, 0) + count
            return None
        self._last[key] = now
        return self._held.pop(key, 0) + count - 1

    def reset(self, key: Hashable) -> None:
        """The fault is over: its next occurrence is logged at once."""
        self._last.pop(key, None)
        self._held.pop(key, None)
