"""A small generated quarter in a real SQLite store, shared by the report tests."""

from __future__ import annotations

from pathlib import Path

from lab.synthetic_quarter import fill_store, generate_quarter
from monitor.core.charter import Charter, load_charter
from monitor.reports.periods import Period, parse_quarter
from monitor.store import open_store

QUARTER = "2026Q3"
CALLS = 3000


def generated_store(folder: Path, *, calls: int = CALLS) -> tuple[str, Charter, Period]:
    charter = load_charter()
    period = parse_quarter(QUARTER, charter.timezone)
    url = f"sqlite:///{folder / 'calls.db'}"
    with open_store(url) as store:
        fill_store(store, generate_quarter(period, charter, calls=calls, batch_calls=1000))
    return url, charter, period
