"""The store: call legs, callbacks and call-flow events, durable in SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from monitor.core.accounts import Account
from monitor.core.api_tokens import ApiToken
from monitor.core.events import CallEvent
from monitor.core.records import (
    Callback,
    CallbackStatus,
    CallLeg,
    LegKind,
    MissedCause,
    Outcome,
    PersonRing,
    StatusAnnouncement,
)
from monitor.core.ring_backs import RingBack
from monitor.store import _accounts as account_rows
from monitor.store import _api_tokens as token_rows
from monitor.store import _ring_backs as ring_back_rows
from monitor.store import _rings as rings
from monitor.store import _rows as rows
from monitor.store._dialect import Connection, connect
from monitor.store._errors import StoreError
from monitor.store._retention import PURGE_TARGETS, count_older, purge_older
from monitor.store._rings import PersonRingTally
from monitor.store._schema import migrate

if TYPE_CHECKING:
    import pandas as pd

_LEG_SELECT = f"SELECT {', '.join(rows.LEG_COLUMNS)} FROM call_legs"
_CALLBACK_SELECT = f"SELECT {', '.join(rows.CALLBACK_COLUMNS)} FROM callbacks"


@dataclass(frozen=True)
class StoredEvent:
    """A row of `call_events`: one call-flow event as received, kept once per event_id."""

    pbx: str
    event_id: str
    source: str  # how it came: mqtt, or the command that made it (e.g. cli)
    type: str
    call_id: str
    occurred_at: datetime
    payload: str  # the original JSON text, for audit

    @classmethod
    def of(cls, event: CallEvent, *, pbx: str, source: str, payload: str) -> StoredEvent:
        """The row for a typed event whose original JSON text is `payload`."""
        return cls(pbx=pbx, event_id=event.event_id, source=source, type=event.type,
                   call_id=event.call_id, occurred_at=event.timestamp, payload=payload)


@dataclass(frozen=True)
class LegTally:
    """How many legs share these labels and this outcome."""

    kind: LegKind
    queue: str
    department: str
    outcome: Outcome
    missed_cause: MissedCause | None
    answered: bool
    count: int


@dataclass(frozen=True)
class BackfillMark:
    """How far a backfill source was read: an opaque position (e.g. a byte offset) and a time."""

    pbx: str
    source: str
    position: str
    read_until: datetime | None


class Store:
    """One connection. Each write commits at once unless it runs inside `batch()`.

    A commit is durable (SQLite WAL with synchronous=FULL; PostgreSQL's own commit), so an
    event is acknowledged only after the commit that records it.
    """

    def __init__(self, db_url: str) -> None:
        self._url = db_url
        self._conn = connect(db_url)
        self.dialect = self._conn.dialect.name
        self._batch_depth = 0
        try:
            self.schema_version = migrate(self._conn)
        except Exception:
            self._conn.close()
            raise

    # -- transactions ---------------------------------------------------------------------
    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group writes into one commit (rolled back together on error)."""
        self._batch_depth += 1
        try:
            yield
        except BaseException:
            self._batch_depth -= 1
            if self._batch_depth == 0:
                self._conn.rollback()
            raise
        self._batch_depth -= 1
        if self._batch_depth == 0:
            self._conn.commit()

    def commit(self) -> None:
        self._conn.commit()

    def _done(self) -> None:
        if self._batch_depth == 0:
            self._conn.commit()

    def close(self) -> None:
        self._conn.commit()
        self._conn.close()

    def open_connection(self) -> Connection:
        """A new connection to the same database, for `reconnect`; it blocks (up to the
        connect timeout), so an event loop runs it in a thread. Raises StoreError."""
        return connect(self._url)

    def reconnect(self, connection: Connection | None = None) -> None:
        """Drop the connection and use `connection` (default: open one here) after the
        database went away; raises StoreError while it is still away. Uncommitted writes are
        gone: callers redo them."""
        fresh = connection if connection is not None else connect(self._url)
        fresh.health = self._conn.health  # a failure stays until a write commits again
        with suppress(Exception):
            self._conn.close()
        self._batch_depth = 0
        self._conn = fresh

    @property
    def failure(self) -> str | None:
        """The store's last failure (e.g. a full disk) until a write commits again; None
        while it works. /healthz is not ok meanwhile."""
        return self._conn.health.failure

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- tables other modules read and write (e.g. the reports' export log) --------------
    @property
    def time_type(self) -> str:
        """The column type for a time in this database (TEXT in SQLite, TIMESTAMPTZ)."""
        return self._conn.dialect.time_type

    def time_param(self, value: datetime | None) -> object:
        """A tz-aware time as this database stores it (raises ValueError if naive)."""
        return self._conn.dialect.time_param(value)

    def time_value(self, value: object) -> datetime | None:
        """A stored time back as a tz-aware datetime."""
        return self._conn.dialect.time_value(value)

    def execute(self, sql: str, params: Sequence[object] = ()) -> None:
        """Run one statement written with `?` placeholders; commits unless inside `batch()`."""
        self._conn.execute(sql, params)
        self._done()

    def query(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Every row of one query written with `?` placeholders."""
        found = [tuple(r) for r in self._conn.execute(sql, params).fetchall()]
        self._done()
        return found

    # -- call legs ------------------------------------------------------------------------
    def save_legs(self, legs: Iterable[CallLeg]) -> None:
        """Insert or replace legs by (pbx, leg_id)."""
        d = self._conn.dialect
        values = [rows.leg_row(d, leg) for leg in legs]
        if values:
            self._conn.executemany(
                rows.upsert_sql("call_legs", rows.LEG_COLUMNS, ("pbx", "leg_id")), values)
        self._done()

    def get_leg(self, pbx: str, leg_id: str) -> CallLeg | None:
        row = self._conn.execute(f"{_LEG_SELECT} WHERE pbx = ? AND leg_id = ?",
                                 (pbx, leg_id)).fetchone()
        self._done()
        return None if row is None else rows.leg_from_row(self._conn.dialect, row)

    def get_legs(self, pbx: str, leg_ids: Iterable[str]) -> dict[str, CallLeg]:
        """The stored legs among `leg_ids`, by id (looked up 500 at a time)."""
        wanted = list(dict.fromkeys(leg_ids))
        found: dict[str, CallLeg] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            marks = ", ".join("?" for _ in chunk)
            for row in self._conn.execute(
                    f"{_LEG_SELECT} WHERE pbx = ? AND leg_id IN ({marks})",
                    [pbx, *chunk]).fetchall():
                leg = rows.leg_from_row(self._conn.dialect, row)
                found[leg.leg_id] = leg
        self._done()
        return found

    def legs_of_call(self, call_id: str) -> list[CallLeg]:
        found = self._conn.execute(f"{_LEG_SELECT} WHERE call_id = ? ORDER BY offered_at",
                                   (call_id,)).fetchall()
        self._done()
        return [rows.leg_from_row(self._conn.dialect, r) for r in found]

    def open_legs(self, pbx: str) -> list[CallLeg]:
        """Legs still in progress: the state machine resumes them after a restart."""
        found = self._conn.execute(f"{_LEG_SELECT} WHERE pbx = ? AND outcome = ?",
                                   (pbx, Outcome.IN_PROGRESS.value)).fetchall()
        self._done()
        return [rows.leg_from_row(self._conn.dialect, r) for r in found]

    def _leg_filters(self, start: datetime, end: datetime, *, pbx: str | None,
                     queue: str | None, department: str | None) -> tuple[list[str], list[object]]:
        d = self._conn.dialect
        where, params = ["offered_at >= ?", "offered_at < ?"], [d.time_param(start),
                                                               d.time_param(end)]
        for column, value in (("pbx", pbx), ("queue", queue), ("department", department)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        return where, params

    def _leg_row_chunks(self, start: datetime, end: datetime, *, pbx: str | None,
                        queue: str | None, department: str | None,
                        chunk_size: int) -> Iterator[Sequence[Any]]:
        """Raw rows offered in [start, end), in (offered_at, leg_id) order, a chunk per query
        (keyset paging: no transaction or server cursor stays open between chunks)."""
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, not {chunk_size}")
        where, params = self._leg_filters(start, end, pbx=pbx, queue=queue,
                                          department=department)
        after: tuple[object, object] | None = None
        while True:
            keyset = " AND (offered_at > ? OR (offered_at = ? AND leg_id > ?))" if after else ""
            extra = [after[0], after[0], after[1]] if after else []
            found = self._conn.execute(
                f"{_LEG_SELECT} WHERE {' AND '.join(where)}{keyset} "
                f"ORDER BY offered_at, leg_id LIMIT {int(chunk_size)}",
                [*params, *extra]).fetchall()
            self._done()
            if found:
                yield found
            if len(found) < chunk_size:
                return
            last = found[-1]
            after = (last[rows.LEG_COLUMNS.index("offered_at")], last[1])

    def legs_between(self, start: datetime, end: datetime, *, pbx: str | None = None,
                     queue: str | None = None, department: str | None = None,
                     chunk_size: int = 5000) -> Iterator[CallLeg]:
        """Legs offered in [start, end), in offered order, read `chunk_size` rows at a time."""
        d = self._conn.dialect
        for found in self._leg_row_chunks(start, end, pbx=pbx, queue=queue,
                                          department=department, chunk_size=chunk_size):
            for row in found:
                yield rows.leg_from_row(d, row)

    def leg_frames_between(self, start: datetime, end: datetime, *, pbx: str | None = None,
                           queue: str | None = None, department: str | None = None,
                           chunk_size: int = 50_000) -> Iterator[pd.DataFrame]:
        """The same legs as `legs_between`, in the same order, as one frame per chunk of
        `LEG_FRAME_COLUMNS` (times UTC): for exports, where a `CallLeg` per row is too slow."""
        from monitor.store._leg_columns import leg_columns  # pandas only when asked for

        for found in self._leg_row_chunks(start, end, pbx=pbx, queue=queue,
                                          department=department, chunk_size=chunk_size):
            yield leg_columns(found)

    def count_legs_between(self, start: datetime, end: datetime, *, pbx: str | None = None,
                           queue: str | None = None, department: str | None = None) -> int:
        """How many legs `legs_between` would give."""
        where, params = self._leg_filters(start, end, pbx=pbx, queue=queue,
                                          department=department)
        row = self._conn.execute(f"SELECT COUNT(*) FROM call_legs WHERE {' AND '.join(where)}",
                                 params).fetchone()
        self._done()
        return int(row[0])

    def departments(self) -> list[str]:
        """Every department seen on a leg or a callback, sorted."""
        found = self._conn.execute("SELECT DISTINCT department FROM call_legs UNION "
                                   "SELECT DISTINCT department FROM callbacks").fetchall()
        self._done()
        return sorted(str(r[0]) for r in found if r[0])

    def queues(self) -> list[str]:
        """Every queue seen on a leg, sorted."""
        found = self._conn.execute("SELECT DISTINCT queue FROM call_legs").fetchall()
        self._done()
        return sorted(str(r[0]) for r in found if r[0])

    def leg_tallies(self, pbx: str) -> list[LegTally]:
        """Legs counted by labels and outcome, in SQL: what a restart rebuilds counters from."""
        found = self._conn.execute(
            "SELECT kind, queue, department, outcome, COALESCE(missed_cause, ''),"
            " CASE WHEN answered_at IS NULL THEN 0 ELSE 1 END, COUNT(*) FROM call_legs"
            " WHERE pbx = ? GROUP BY kind, queue, department, outcome, missed_cause,"
            " CASE WHEN answered_at IS NULL THEN 0 ELSE 1 END", (pbx,)).fetchall()
        self._done()
        return [LegTally(LegKind(r[0]), r[1], r[2], Outcome(r[3]),
                         MissedCause(r[4]) if r[4] else None, bool(r[5]), int(r[6]))
                for r in found]

    def answer_wait_buckets(self, pbx: str, bounds: Sequence[float]
                            ) -> list[tuple[LegKind, str, str, int, int, float]]:
        """Answered legs per labels and histogram bucket: (kind, queue, department, bucket
        index, count, sum of waits). Bucket i holds waits in (bounds[i-1], bounds[i]]; index
        len(bounds) the rest. Negative waits count as 0, as live. Aggregated in SQL, so a
        restart reads a few rows, not every leg."""
        wait, bucket = _wait_bucket_sql(bounds)
        found = self._conn.execute(
            f"SELECT kind, queue, department, {bucket}, COUNT(*), SUM({wait}) FROM call_legs"
            " WHERE pbx = ? AND answer_wait_seconds IS NOT NULL"
            f" GROUP BY kind, queue, department, {bucket}", (pbx,)).fetchall()
        self._done()
        return [(LegKind(r[0]), r[1], r[2], int(r[3]), int(r[4]), float(r[5])) for r in found]

    def answer_waits_by_person(self, pbx: str, bounds: Sequence[float]
                               ) -> list[tuple[str, int, int, float]]:
        """As `answer_wait_buckets`, per person who answered: (answered_by, bucket index,
        count, sum of waits), for the per-person histogram a restart rebuilds."""
        wait, bucket = _wait_bucket_sql(bounds)
        found = self._conn.execute(
            f"SELECT answered_by, {bucket}, COUNT(*), SUM({wait}) FROM call_legs"
            " WHERE pbx = ? AND answer_wait_seconds IS NOT NULL AND answered_by <> ''"
            f" GROUP BY answered_by, {bucket}", (pbx,)).fetchall()
        self._done()
        return [(str(r[0]), int(r[1]), int(r[2]), float(r[3])) for r in found]

    def count_legs(self, pbx: str | None = None) -> int:
        sql, params = "SELECT COUNT(*) FROM call_legs", []
        if pbx is not None:
            sql, params = f"{sql} WHERE pbx = ?", [pbx]
        row = self._conn.execute(sql, params).fetchone()
        self._done()
        return int(row[0])

    # -- person rings (per receptionist and officer) ------------------------------------
    def save_rings(self, found: Iterable[PersonRing]) -> None:
        """Insert or replace rings by (pbx, leg_id, ring_id); inside the batch of their leg."""
        values = rings.rows_of(self._conn.dialect, found)
        if values:
            self._conn.executemany(
                rows.upsert_sql("person_rings", rings.RING_COLUMNS,
                                ("pbx", "leg_id", "ring_id")), values)
        self._done()

    def rings_of_legs(self, pbx: str, leg_ids: Iterable[str]) -> dict[str, list[PersonRing]]:
        """The stored rings of these legs, by leg id, in the order they ended."""
        wanted = list(dict.fromkeys(leg_ids))
        found: dict[str, list[PersonRing]] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            marks = ", ".join("?" for _ in chunk)
            for row in self._conn.execute(
                    f"SELECT {', '.join(rings.RING_COLUMNS)} FROM person_rings"
                    f" WHERE pbx = ? AND leg_id IN ({marks}) ORDER BY ended_at, ring_id",
                    [pbx, *chunk]).fetchall():
                ring = rings.ring_from_row(self._conn.dialect, row)
                found.setdefault(ring.leg_id, []).append(ring)
        self._done()
        return found

    def ring_tallies(self, pbx: str) -> list[tuple[str, str, int]]:
        """(person, result, rings) of one PBX: what a restart rebuilds the ring counter from."""
        found = self._conn.execute(rings.TALLY_SQL, (pbx,)).fetchall()
        self._done()
        return [(str(r[0]), str(r[1]), int(r[2])) for r in found]

    def person_ring_figures(self, start: datetime, end: datetime, *, within_seconds: float,
                            pbx: str | None = None) -> list[PersonRingTally]:
        """Rings of the legs offered in [start, end), per queue or department, person and
        result, with how many answered rings had their leg answered within `within_seconds`."""
        d = self._conn.dialect
        params: list[object] = [float(within_seconds), d.time_param(start), d.time_param(end)]
        if pbx is not None:
            params.append(pbx)
        found = self._conn.execute(rings.figures_sql(pbx=pbx is not None), params).fetchall()
        self._done()
        return [rings.tally_of(r) for r in found]

    # -- callbacks (charter T-h) ---------------------------------------------------------
    def save_callback(self, callback: Callback) -> None:
        d = self._conn.dialect
        self._conn.execute(
            rows.upsert_sql("callbacks", rows.CALLBACK_COLUMNS, ("pbx", "callback_id")),
            rows.callback_row(d, callback))
        self._done()

    def get_callback(self, pbx: str, callback_id: str) -> Callback | None:
        row = self._conn.execute(f"{_CALLBACK_SELECT} WHERE pbx = ? AND callback_id = ?",
                                 (pbx, callback_id)).fetchone()
        self._done()
        return None if row is None else rows.callback_from_row(self._conn.dialect, row)

    def callbacks(self, *, pbx: str | None = None, status: CallbackStatus | None = None,
                  department: str | None = None, officer: str | None = None,
                  due_before: datetime | None = None) -> list[Callback]:
        """Callbacks matching every given filter, oldest contact first."""
        d = self._conn.dialect
        where: list[str] = []
        params: list[object] = []
        filters = (("pbx = ?", pbx), ("status = ?", status.value if status else None),
                   ("department = ?", department), ("officer = ?", officer),
                   ("due_at < ?", d.time_param(due_before)))
        for clause, value in filters:
            if value is not None:
                where.append(clause)
                params.append(value)
        sql = _CALLBACK_SELECT + (f" WHERE {' AND '.join(where)}" if where else "")
        found = self._conn.execute(f"{sql} ORDER BY contacted_at, callback_id", params).fetchall()
        self._done()
        return [rows.callback_from_row(d, r) for r in found]

    def close_callback(self, pbx: str, callback_id: str, *, action_taken: str,
                       done_at: datetime, caller_informed_at: datetime | None = None) -> Callback:
        """Record (e) the action taken and (f) when; raises StoreError for an unknown id."""
        callback = self.get_callback(pbx, callback_id)
        if callback is None:
            raise StoreError(f"no callback {callback_id!r} for pbx {pbx!r}")
        callback.action_taken = action_taken
        callback.done_at = done_at
        callback.caller_informed_at = caller_informed_at
        callback.status = CallbackStatus.CLOSED
        self.save_callback(callback)
        return callback

    # -- ring-backs of missed callers (service recovery) --------------------------------
    def save_ring_back(self, ring_back: RingBack) -> bool:
        """Add one; False if its id was recorded already (a form sent twice). Never changed."""
        cursor = self._conn.execute(ring_back_rows.INSERT_RING_BACK,
                                    ring_back_rows.ring_back_row(self._conn.dialect, ring_back))
        self._done()
        return cursor.rowcount == 1

    def ring_backs_between(self, start: datetime, end: datetime, *,
                           pbx: str | None = None) -> list[RingBack]:
        """Ring-backs made in [start, end), oldest first."""
        d = self._conn.dialect
        sql = f"{ring_back_rows.RING_BACK_SELECT} WHERE rung_at >= ? AND rung_at < ?"
        params: list[object] = [d.time_param(start), d.time_param(end)]
        if pbx is not None:
            sql, params = f"{sql} AND pbx = ?", [*params, pbx]
        found = self._conn.execute(f"{sql} ORDER BY rung_at, ring_back_id", params).fetchall()
        self._done()
        return [ring_back_rows.ring_back_from_row(d, r) for r in found]

    # -- call-flow events and status announcements ---------------------------------------
    def record_event(self, event: StoredEvent) -> bool:
        """Keep an event once; False if its event_id was already recorded (a redelivery)."""
        d = self._conn.dialect
        cursor = self._conn.execute(
            "INSERT INTO call_events (pbx, event_id, source, type, call_id, occurred_at, payload,"
            " received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (pbx, event_id) DO NOTHING",
            (event.pbx, event.event_id, event.source, event.type, event.call_id,
             d.time_param(event.occurred_at), event.payload, d.time_param(datetime.now(UTC))))
        self._done()
        return cursor.rowcount == 1

    def call_events(self, start: datetime, end: datetime, *, pbx: str | None = None,
                    event_type: str | None = None) -> list[StoredEvent]:
        """Recorded events that happened in [start, end), in time order."""
        d = self._conn.dialect
        sql = ("SELECT pbx, event_id, source, type, call_id, occurred_at, payload FROM call_events"
               " WHERE occurred_at >= ? AND occurred_at < ?")
        params: list[object] = [d.time_param(start), d.time_param(end)]
        for column, value in (("pbx", pbx), ("type", event_type)):
            if value is not None:
                sql, params = f"{sql} AND {column} = ?", [*params, value]
        found = self._conn.execute(f"{sql} ORDER BY occurred_at, event_id", params).fetchall()
        self._done()
        events = []
        for row in found:
            at = d.time_value(row[5])
            assert at is not None
            events.append(StoredEvent(row[0], row[1], row[2], row[3], row[4], at, row[6]))
        return events

    def save_status_announcement(self, announcement: StatusAnnouncement) -> None:
        d = self._conn.dialect
        self._conn.execute(
            rows.upsert_sql("status_announcements", rows.ANNOUNCEMENT_COLUMNS,
                            ("pbx", "event_id")),
            rows.announcement_row(d, announcement))
        self._done()

    def status_announcements(self, start: datetime, end: datetime, *,
                             pbx: str | None = None) -> list[StatusAnnouncement]:
        d = self._conn.dialect
        sql = (f"SELECT {', '.join(rows.ANNOUNCEMENT_COLUMNS)} FROM status_announcements "
               "WHERE announced_at >= ? AND announced_at < ?")
        params: list[object] = [d.time_param(start), d.time_param(end)]
        if pbx is not None:
            sql, params = f"{sql} AND pbx = ?", [*params, pbx]
        found = self._conn.execute(f"{sql} ORDER BY announced_at", params).fetchall()
        self._done()
        return [rows.announcement_from_row(d, r) for r in found]

    # -- backfill high-water marks -------------------------------------------------------
    def backfill_mark(self, pbx: str, source: str) -> BackfillMark | None:
        row = self._conn.execute(
            "SELECT position, read_until FROM backfill_marks WHERE pbx = ? AND source = ?",
            (pbx, source)).fetchone()
        self._done()
        if row is None:
            return None
        return BackfillMark(pbx, source, str(row[0]), self._conn.dialect.time_value(row[1]))

    def set_backfill_mark(self, mark: BackfillMark) -> None:
        d = self._conn.dialect
        self._conn.execute(
            rows.upsert_sql("backfill_marks",
                            ("pbx", "source", "position", "read_until", "updated_at"),
                            ("pbx", "source")),
            (mark.pbx, mark.source, mark.position, d.time_param(mark.read_until),
             d.time_param(datetime.now(UTC))))
        self._done()

    # -- retention (PDPA 2010) ------------------------------------------------------------
    def count_older_than(self, before: datetime, *, pbx: str | None = None) -> dict[str, int]:
        """Per table, how many caller-data rows `purge_older_than` would delete."""
        return {t.table: count_older(self._conn, t, before, pbx) for t in PURGE_TARGETS}

    def purge_older_than(self, before: datetime, *, pbx: str | None = None,
                         batch_rows: int = 10_000) -> Iterator[tuple[str, int]]:
        """Delete caller-data rows older than `before` (legs, call-flow events, status
        messages, closed callbacks); yields (table, rows) after each committed batch."""
        if self._batch_depth:
            raise StoreError("purge commits batch by batch: not inside batch()")
        for target in PURGE_TARGETS:
            for deleted in purge_older(self._conn, target, before, pbx, batch_rows):
                yield target.table, deleted

    # -- console accounts ---------------------------------------------------------------
    def save_account(self, account: Account) -> None:
        """Insert or update by user name (its created_at kept as first written)."""
        row = account_rows.account_row(self._conn.dialect, account)
        self._conn.execute(account_rows.upsert_account_sql(), row)
        self._done()

    def get_account(self, username: str) -> Account | None:
        row = self._conn.execute(f"{account_rows.ACCOUNT_SELECT} WHERE username = ?",
                                 (username,)).fetchone()
        self._done()
        return None if row is None else account_rows.account_from_row(self._conn.dialect, row)

    def accounts(self) -> list[Account]:
        found = self._conn.execute(f"{account_rows.ACCOUNT_SELECT} ORDER BY username").fetchall()
        self._done()
        return [account_rows.account_from_row(self._conn.dialect, r) for r in found]

    # -- API tokens -----------------------------------------------------------------------
    def add_api_token(self, token: ApiToken) -> None:
        self._conn.execute(token_rows.INSERT_TOKEN, token_rows.token_row(self._conn.dialect,
                                                                           token))
        self._done()

    def api_token_by_hash(self, token_hash: str) -> ApiToken | None:
        row = self._conn.execute(f"{token_rows.TOKEN_SELECT} WHERE token_hash = ?",
                                 (token_hash,)).fetchone()
        self._done()
        return None if row is None else token_rows.token_from_row(self._conn.dialect, row)

    def api_tokens(self) -> list[ApiToken]:
        found = self._conn.execute(
            f"{token_rows.TOKEN_SELECT} ORDER BY username, created_at").fetchall()
        self._done()
        return [token_rows.token_from_row(self._conn.dialect, r) for r in found]

    def revoke_api_token(self, token_id: str) -> bool:
        """True if a live token had this id."""
        cursor = self._conn.execute(
            "UPDATE api_tokens SET revoked = 1 WHERE token_id = ? AND revoked = 0", (token_id,))
        changed = cursor.rowcount
        self._done()
        return bool(changed)

    def probe_write(self, pbx: str) -> None:
        """One small committed write (a `store-probe` row among the backfill marks), so a store
        that failed shows it works again without waiting for the next call; raises StoreError
        while it still fails."""
        self.set_backfill_mark(BackfillMark(pbx, "store-probe", "", datetime.now(UTC)))


def _wait_bucket_sql(bounds: Sequence[float]) -> tuple[str, str]:
    """SQL for a leg's answer wait (negative as 0, as live) and its histogram bucket index."""
    wait = "CASE WHEN answer_wait_seconds < 0 THEN 0 ELSE answer_wait_seconds END"
    cases = " ".join(f"WHEN {wait} <= {float(b)!r} THEN {i}" for i, b in enumerate(bounds))
    return wait, f"CASE {cases} ELSE {len(bounds)} END"


def open_store(db_url: str) -> Store:
    """Open (and migrate) the store at `sqlite:///path` or `postgresql://user@host/db`."""
    return Store(db_url)
