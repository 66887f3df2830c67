"""API tokens in the store: their row and its conversions (schema version 7)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from monitor.core.api_tokens import ApiToken
from monitor.store._dialect import Dialect

TOKEN_COLUMNS = ("token_hash", "token_id", "username", "label", "created_at", "revoked")
TOKEN_SELECT = f"SELECT {', '.join(TOKEN_COLUMNS)} FROM api_tokens"
INSERT_TOKEN = (f"INSERT INTO api_tokens ({', '.join(TOKEN_COLUMNS)}) "
                f"VALUES ({', '.join('?' for _ in TOKEN_COLUMNS)})")


def token_row(d: Dialect, token: ApiToken) -> tuple[object, ...]:
    return (token.token_hash, token.token_id, token.username, token.label,
            d.time_param(token.created_at), int(token.revoked))


def token_from_row(d: Dialect, row: Sequence[Any]) -> ApiToken:
    return ApiToken(token_hash=row[0], token_id=row[1], username=row[2], label=row[3],
                    created_at=d.time_value(row[4]), revoked=bool(row[5]))
