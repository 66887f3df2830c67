"""Making, revoking and checking API tokens: one set of functions for `callsla users token`,
the admin's page and the API's `Authorization: Bearer` check."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime

from monitor.core.accounts import Account, AccountError
from monitor.core.api_tokens import TOKEN_PREFIX, ApiToken, new_secret, token_hash, token_id_of
from monitor.live.console.accounts import find_login
from monitor.store import Store

MAX_LABEL_LENGTH = 100


def create_token(store: Store, username: str, label: str = "") -> tuple[ApiToken, str]:
    """The stored token and its secret, which is shown once and never kept."""
    account = find_login(store, username)
    if account is None:
        raise AccountError(f"no user {username!r}")
    if account.disabled:
        raise AccountError(f"user {account.username!r} is disabled; enable it first")
    label = label.strip()
    if len(label) > MAX_LABEL_LENGTH or any(ord(c) < 32 for c in label):
        raise AccountError(f"a token's label is one line of at most {MAX_LABEL_LENGTH} "
                           "characters")
    secret = new_secret()
    hashed = token_hash(secret)
    token = ApiToken(token_id=token_id_of(hashed), username=account.username, label=label,
                     token_hash=hashed, created_at=datetime.now(UTC))
    store.add_api_token(token)
    return token, secret


def revoke_token(store: Store, token_id: str) -> None:
    if not store.revoke_api_token(token_id.strip()):
        raise AccountError(f"no live token {token_id!r}")


def bearer_secret(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer callsla_...` header, or None."""
    scheme, _, secret = (authorization or "").partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret.startswith(TOKEN_PREFIX):
        return None
    return secret


def account_for_token(store: Store, secret: str) -> Account | None:
    """The enabled account a live token belongs to, or None."""
    hashed = token_hash(secret)
    token = store.api_token_by_hash(hashed)
    if token is None or token.revoked or not hmac.compare_digest(token.token_hash, hashed):
        return None
    account = store.get_account(token.username)
    return account if account is not None and not account.disabled else None
