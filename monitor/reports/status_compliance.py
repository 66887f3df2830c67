"""Charter T-f: was each status message heard within the standard interval of the previous one?"""

from __future__ import annotations

from monitor.core.metrics import STATUS_TOLERANCE_SECONDS


def interval_kept(interval_seconds: float, standard_seconds: float) -> bool:
    """True when the caller heard the next status message within the standard (+1 s)."""
    return interval_seconds <= standard_seconds + STATUS_TOLERANCE_SECONDS
