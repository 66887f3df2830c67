""""Today" for the console's lists: from midnight where the charter's office is, until now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


def today_window(now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[local midnight, just after now), in UTC: the range of a store query for today."""
    local = now.astimezone(zone)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
    return start, now.astimezone(UTC) + timedelta(seconds=1)
