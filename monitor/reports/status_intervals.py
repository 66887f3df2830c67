"""Status-message intervals heard by callers waiting on a busy officer (charter T-f)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# Announcements are scheduled at start + n x 20 s; the live histogram has buckets at 20 and 21,
# so an interval within one second of the standard counts as kept (DESIGN.md).
STATUS_TOLERANCE_SECONDS = 1.0


@dataclass(frozen=True)
class StatusInterval:
    pbx: str
    call_id: str
    department: str
    officer: str
    heard_at: datetime
    interval_seconds: float


def interval_kept(interval_seconds: float, standard_seconds: float) -> bool:
    """True when the caller heard the next status message within the standard (+1 s)."""
    return interval_seconds <= standard_seconds + STATUS_TOLERANCE_SECONDS
