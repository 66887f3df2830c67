"""Which stored records hold caller data, by which time they age, and how they are purged.

PDPA 2010 keeps personal data no longer than needed; the charter states how long
(`retention.call_records_days`). Purging runs in batches of about `batch_rows` rows, oldest
first, one commit each, so a large purge neither holds a long lock on a store the monitor is
writing nor loses its work if interrupted. The export log and backfill marks are kept: the
first is the record of who took data out, the second holds no caller data.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from monitor.store._dialect import Connection


@dataclass(frozen=True)
class PurgeTarget:
    """A table of caller data and the column its age is measured by."""

    table: str
    time_column: str
    condition: str = ""  # extra SQL: which rows may go at all


PURGE_TARGETS = (
    PurgeTarget("call_legs", "offered_at"),
    PurgeTarget("call_events", "occurred_at"),
    PurgeTarget("status_announcements", "announced_at"),
    # An open callback is a promise still owed to the caller: it stays until it is closed.
    # Its `matter` is the reference to the caller's voicemail message.
    PurgeTarget("callbacks", "contacted_at", "status = 'closed'"),
    PurgeTarget("ring_backs", "rung_at"),
)


def _where(conn: Connection, target: PurgeTarget, before: datetime,
           pbx: str | None) -> tuple[str, list[object]]:
    clauses, params = [f"{target.time_column} < ?"], [conn.dialect.time_param(before)]
    if target.condition:
        clauses.append(target.condition)
    if pbx is not None:
        clauses.append("pbx = ?")
        params.append(pbx)
    return " AND ".join(clauses), params


def count_older(conn: Connection, target: PurgeTarget, before: datetime,
                pbx: str | None) -> int:
    where, params = _where(conn, target, before, pbx)
    row = conn.execute(f"SELECT COUNT(*) FROM {target.table} WHERE {where}", params).fetchone()
    conn.commit()
    return int(row[0])


def purge_older(conn: Connection, target: PurgeTarget, before: datetime, pbx: str | None,
                batch_rows: int) -> Iterator[int]:
    """Delete the target's rows older than `before`, oldest first; yields each committed
    batch's row count. A batch is every row up to the time of the `batch_rows`-th oldest
    (rows sharing that time go with it), so the time index does the work on both databases."""
    if batch_rows < 1:
        raise ValueError(f"batch_rows must be >= 1, not {batch_rows}")
    where, params = _where(conn, target, before, pbx)
    while True:
        boundary = conn.execute(
            f"SELECT {target.time_column} FROM {target.table} WHERE {where}"
            f" ORDER BY {target.time_column} LIMIT 1 OFFSET {int(batch_rows) - 1}",
            params).fetchone()
        last = boundary is None
        upto = ("", []) if last else (f" AND {target.time_column} <= ?", [boundary[0]])
        deleted = conn.execute(f"DELETE FROM {target.table} WHERE {where}{upto[0]}",
                               [*params, *upto[1]]).rowcount
        conn.commit()
        if deleted:
            yield deleted
        if last:
            return
