"""Console accounts in the store: their row and its conversions (schema version 5)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from monitor.core.accounts import Account, Role
from monitor.store._dialect import Dialect

ACCOUNT_COLUMNS = ("username", "role", "password_hash", "display_name", "disabled",
                   "created_at", "updated_at")
ACCOUNT_SELECT = f"SELECT {', '.join(ACCOUNT_COLUMNS[:-1])} FROM accounts"


def upsert_account_sql() -> str:
    updates = ", ".join(f"{c} = excluded.{c}" for c in ACCOUNT_COLUMNS
                        if c not in ("username", "created_at"))
    marks = ", ".join("?" for _ in ACCOUNT_COLUMNS)
    return (f"INSERT INTO accounts ({', '.join(ACCOUNT_COLUMNS)}) VALUES ({marks}) "
            f"ON CONFLICT (username) DO UPDATE SET {updates}")


def account_row(d: Dialect, account: Account) -> tuple[object, ...]:
    now = datetime.now(UTC)
    return (account.username, account.role.value, account.password_hash, account.display_name,
            int(account.disabled), d.time_param(account.created_at or now), d.time_param(now))


def account_from_row(d: Dialect, row: Sequence[Any]) -> Account:
    return Account(username=row[0], role=Role(row[1]), password_hash=row[2],
                   display_name=row[3], disabled=bool(row[4]), created_at=d.time_value(row[5]))
