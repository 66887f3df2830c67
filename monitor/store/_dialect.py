"""The two databases behind one store: connection, placeholders, column types and time values."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import psycopg
from psycopg.conninfo import conninfo_to_dict

from monitor.core.private_files import ensure_private
from monitor.store._errors import StoreError

log = logging.getLogger(__name__)

# Without it libpq waits for an unresponsive server forever; a URL's own connect_timeout wins.
PG_CONNECT_TIMEOUT_SECONDS = 10

# SQLite keeps times as fixed-width UTC ISO 8601 text (2026-03-02T01:00:00.000000+00:00), so
# text order is time order.


class Cursor(Protocol):
    rowcount: int

    def fetchone(self) -> Any: ...
    def fetchmany(self, size: int = ...) -> Sequence[Any]: ...
    def fetchall(self) -> Sequence[Any]: ...


@dataclass(frozen=True)
class Dialect:
    """What differs between SQLite and PostgreSQL; everything else is one SQL text."""

    name: str
    time_type: str
    float_type: str

    def sql(self, text: str) -> str:
        """Queries are written with `?`; psycopg wants `%s`."""
        return text if self.name == "sqlite" else text.replace("?", "%s")

    def time_param(self, value: datetime | None) -> object:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store keeps time-zone-aware times")
        if self.name == "sqlite":  # isoformat: the same fixed-width text, faster than strftime
            return value.astimezone(UTC).isoformat(timespec="microseconds")
        return value

    def time_value(self, value: object) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        return datetime.fromisoformat(str(value))


SQLITE = Dialect(name="sqlite", time_type="TEXT", float_type="REAL")
POSTGRES = Dialect(name="postgresql", time_type="TIMESTAMPTZ", float_type="DOUBLE PRECISION")


class StoreHealth:
    """Whether the store works: the last failure, until a commit shows it works again.

    A failed write (a full disk, a database gone) is cleared only by a committed write, not by
    a read that happens to work (SQLite reads fine from a full disk). Kept across reconnects.
    """

    def __init__(self) -> None:
        self.failure: str | None = None
        self.failed_at: datetime | None = None
        self._in_write = False

    def failed(self, message: str, *, writing: bool) -> None:
        if self.failure is None:
            self.failed_at = datetime.now(UTC)
        self.failure, self._in_write = message, self._in_write or writing

    def committed(self, *, wrote: bool) -> None:
        if self.failure is not None and (wrote or not self._in_write):
            log.warning("store works again (it failed at %s: %s)",
                        self.failed_at.isoformat() if self.failed_at else "?", self.failure)
            self.failure, self.failed_at, self._in_write = None, None, False


def _writes(text: str) -> bool:
    return not text.lstrip()[:6].upper().startswith("SELECT")


class Connection:
    """A DB-API connection with the dialect's placeholders; one transaction at a time."""

    def __init__(self, raw: sqlite3.Connection | psycopg.Connection[Any], dialect: Dialect):
        self.raw = raw
        self.dialect = dialect
        self.health = StoreHealth()
        self._sqlite = raw if isinstance(raw, sqlite3.Connection) else None
        self._wrote = False  # in the open transaction

    def _begin(self) -> None:
        """SQLite runs in autocommit mode so DDL is transactional too; open one explicitly."""
        if self._sqlite is not None and not self._sqlite.in_transaction:
            self._sqlite.execute("BEGIN")

    def _failed(self, message: str) -> StoreError:
        """Record the failure; the transaction's writes are lost (SQLite rolls back a commit
        that failed on a full disk), so none count towards a later commit."""
        self.health.failed(message, writing=self._wrote)
        self._wrote = False
        return StoreError(message)

    def execute(self, text: str, params: Sequence[object] = ()) -> Cursor:
        self._wrote = self._wrote or _writes(text)
        try:
            self._begin()
            cursor: Cursor = self.raw.execute(  # type: ignore[assignment]
                self.dialect.sql(text), params)
        except (sqlite3.Error, psycopg.Error) as exc:
            raise self._failed(f"{self.dialect.name}: {exc}".strip()) from exc
        return cursor

    def executemany(self, text: str, rows: Sequence[Sequence[object]]) -> None:
        self._wrote = True
        try:
            self._begin()
            if self._sqlite is not None:
                self._sqlite.executemany(text, rows)
            else:
                with self.raw.cursor() as cursor:  # type: ignore[union-attr]
                    cursor.executemany(self.dialect.sql(text), rows)
        except (sqlite3.Error, psycopg.Error) as exc:
            raise self._failed(f"{self.dialect.name}: {exc}".strip()) from exc

    def commit(self) -> None:
        try:
            if self._sqlite is not None:
                if self._sqlite.in_transaction:
                    self._sqlite.execute("COMMIT")
            else:
                self.raw.commit()
        except (sqlite3.Error, psycopg.Error) as exc:
            raise self._failed(f"{self.dialect.name}: commit failed: {exc}") from exc
        self.health.committed(wrote=self._wrote)
        self._wrote = False

    def rollback(self) -> None:
        """Undo the open transaction; on a connection already lost there is nothing to undo."""
        self._wrote = False
        try:
            if self._sqlite is not None:
                if self._sqlite.in_transaction:
                    self._sqlite.execute("ROLLBACK")
            else:
                self.raw.rollback()
        except (sqlite3.Error, psycopg.Error):
            pass

    def close(self) -> None:
        self.raw.close()


def _private_sqlite_files(path: Path) -> None:
    """The store 0600 before SQLite opens it: SQLite makes its -wal and -shm with the
    database file's mode, but creates a new database 0644."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ensure_private(path)
    for companion in (path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")):
        if companion.exists():
            ensure_private(companion)


def connect(db_url: str) -> Connection:
    """`sqlite:///path` (WAL, synchronous=FULL: a commit survives a crash) or `postgresql://`
    (at most PG_CONNECT_TIMEOUT_SECONDS to connect). Blocking: an event loop runs it in a
    thread."""
    if db_url.startswith("sqlite:///"):
        path = db_url.removeprefix("sqlite:///")
        try:
            if path != ":memory:":
                _private_sqlite_files(Path(path))
            raw = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            raw.execute("PRAGMA journal_mode=WAL")
            raw.execute("PRAGMA synchronous=FULL")
            raw.execute("PRAGMA busy_timeout=10000")
            raw.execute("PRAGMA foreign_keys=ON")
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open SQLite store {path!r}: {exc}") from exc
        return Connection(raw, SQLITE)
    if db_url.startswith(("postgresql://", "postgres://")):
        try:
            given = conninfo_to_dict(db_url)
            timeout = given.get("connect_timeout", PG_CONNECT_TIMEOUT_SECONDS)
            pg = psycopg.connect(db_url, autocommit=False, connect_timeout=timeout)
        except psycopg.Error as exc:
            host = db_url.split("@")[-1]
            raise StoreError(f"cannot connect to PostgreSQL at {host}: {exc}") from exc
        return Connection(pg, POSTGRES)
    raise StoreError(f"store URL {db_url.split('@')[-1]!r} must be sqlite:///path or postgresql://...")
