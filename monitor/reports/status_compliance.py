"""Charter T-f: was each status message heard within the standard interval of the previous one?"""

from __future__ import annotations

# Announcements are scheduled at start + n x 20 s; the live histogram has buckets at 20 and 21,
# so an interval within one second of the standard counts as kept (as the dashboards read it).
STATUS_TOLERANCE_SECONDS = 1.0


def interval_kept(interval_seconds: float, standard_seconds: float) -> bool:
    """True when the caller heard the next status message within the standard (+1 s)."""
    return interval_seconds <= standard_seconds + STATUS_TOLERANCE_SECONDS
