"""The login rate limit: after five wrong passwords in a minute, each further try is slowed.

Counted per user name and per client address, so guessing one account from many places or
many accounts from one place are both slowed. The sixth try waits `slow_seconds` before its
password is checked (and so does every one after it, until a minute has no five failures).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

FREE_FAILURES = 5
WINDOW_SECONDS = 60.0
SLOW_SECONDS = 3.0


class LoginLimit:
    def __init__(self, *, slow_seconds: float = SLOW_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.slow_seconds = slow_seconds
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and self._clock() - times[0] > WINDOW_SECONDS:
            times.popleft()
        if not times:
            del self._failures[key]
            return deque()
        return times

    def delay_for(self, username: str, address: str) -> float:
        """Seconds to wait before checking this try's password (0 for the first five)."""
        failed = max(len(self._recent(f"user:{username}")), len(self._recent(f"addr:{address}")))
        return self.slow_seconds if failed >= FREE_FAILURES else 0.0

    def failed(self, username: str, address: str) -> None:
        now = self._clock()
        for key in (f"user:{username}", f"addr:{address}"):
            self._failures.setdefault(key, deque()).append(now)
