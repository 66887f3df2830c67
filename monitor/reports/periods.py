"""Reporting periods: date ranges and quarters, as tz-aware bounds in the charter's time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from monitor.reports.errors import ReportError

_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)


@dataclass(frozen=True)
class Period:
    """A half-open interval [start, end) of local days; `label` names it in reports."""

    start: datetime
    end: datetime
    label: str

    @property
    def first_day(self) -> date:
        return self.start.date()

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(days=1)).date()

    def months(self) -> list[date]:
        """The first day of every calendar month the period touches."""
        out: list[date] = []
        cursor = self.first_day.replace(day=1)
        while cursor <= self.last_day:
            out.append(cursor)
            cursor = (cursor + timedelta(days=32)).replace(day=1)
        return out


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def parse_day(text: str, *, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ReportError(f"{option} {text!r} is not a date like 2026-07-01") from None


def day_range(first: date, last: date, zone: ZoneInfo) -> Period:
    """Both days inclusive, as auditors write them (`--from 2026-07-01 --to 2026-09-30`)."""
    if last < first:
        raise ReportError(f"dates out of order: --from {first} is after --to {last}")
    return Period(_midnight(first, zone), _midnight(last + timedelta(days=1), zone),
                  f"{first} to {last}")


def parse_quarter(text: str, zone: ZoneInfo) -> Period:
    """`2026Q3` or `2026-Q3`: July to September 2026 in the charter's time zone."""
    match = _QUARTER.match(text.strip())
    if not match:
        raise ReportError(f"--quarter {text!r} is not a quarter like 2026Q3")
    year, number = int(match.group(1)), int(match.group(2))
    first = date(year, 3 * number - 2, 1)
    after = date(year + 1, 1, 1) if number == 4 else date(year, 3 * number + 1, 1)
    return Period(_midnight(first, zone), _midnight(after, zone), f"{year}Q{number}")
