"""API tokens (issue 12): a random secret an admin hands to a site's helpdesk system.

A token acts as its account, with that account's role's rights; the store keeps only its
SHA-256 (a token is 256 random bits, so a slow password hash buys nothing), and a short id
derived from that hash names it in lists and when it is revoked.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

TOKEN_PREFIX = "callsla_"  # noqa: S105 - the prefix that marks a token, not a secret
TOKEN_ID_LENGTH = 12


@dataclass(frozen=True)
class ApiToken:
    token_id: str
    username: str
    label: str
    token_hash: str = ""
    created_at: datetime | None = None
    revoked: bool = False


def new_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_id_of(hashed: str) -> str:
    return hashed[:TOKEN_ID_LENGTH]
