"""Console accounts and API tokens in the store, through the functions `callsla users` and the
admin's page use (collected again on PostgreSQL: tests/integration/monitor/store/)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.core.accounts import AccountError, Role
from monitor.core.api_tokens import ApiToken, token_hash
from monitor.live.console import accounts
from monitor.live.console.api_tokens import account_for_token, create_token, revoke_token
from monitor.store import Store, StoreError
from tests.unit.monitor.store.test_store import store  # noqa: F401 - the SQLite store fixture

PASSWORD = "correct horse battery"


def test_accounts_round_trip_change_and_keep_their_creation_time(store: Store) -> None:  # noqa: F811
    made = accounts.add_account(store, "Siti", Role.HELP_DESK, PASSWORD,
                                display_name="Siti Aishah")
    accounts.add_account(store, "aziz", Role.AUDITOR, PASSWORD)
    first = store.get_account("siti")
    assert first is not None
    assert (first.username, first.role, first.display_name) == ("siti", Role.HELP_DESK,
                                                                "Siti Aishah")
    assert first.created_at is not None
    assert made.username == "siti"
    accounts.set_role(store, "siti", Role.SUPERVISOR)
    accounts.set_disabled(store, "siti")
    accounts.set_password(store, "siti", "another long password")
    changed = store.get_account("siti")
    assert changed is not None
    assert (changed.role, changed.disabled) == (Role.SUPERVISOR, True)
    assert changed.created_at == first.created_at
    assert accounts.authenticate(store, "siti", "another long password") is None  # disabled
    accounts.set_disabled(store, "siti", False)
    assert accounts.authenticate(store, "siti", "another long password") is not None
    assert accounts.authenticate(store, "siti", PASSWORD) is None
    assert [a.username for a in store.accounts()] == ["aziz", "siti"]
    with pytest.raises(AccountError, match="exists already"):
        accounts.add_account(store, "siti", Role.ADMIN, PASSWORD)


def test_api_tokens_are_kept_hashed_and_revoked(store: Store) -> None:  # noqa: F811
    accounts.add_account(store, "aziz", Role.AUDITOR, PASSWORD)
    token, secret = create_token(store, "aziz", "helpdesk system")
    assert secret.startswith("callsla_")
    kept = store.api_token_by_hash(token_hash(secret))
    assert kept is not None
    assert (kept.token_id, kept.username, kept.label, kept.revoked) == (
        token.token_id, "aziz", "helpdesk system", False)
    assert all(secret not in str(row) for row in store.query("SELECT * FROM api_tokens"))
    found = account_for_token(store, secret)
    assert found is not None
    assert found.username == "aziz"
    accounts.set_disabled(store, "aziz")
    assert account_for_token(store, secret) is None  # a disabled account's token is dead
    accounts.set_disabled(store, "aziz", False)
    revoke_token(store, token.token_id)
    assert account_for_token(store, secret) is None
    assert [t.revoked for t in store.api_tokens()] == [True]
    with pytest.raises(AccountError, match="no live token"):
        revoke_token(store, token.token_id)
    with pytest.raises(AccountError, match="no user"):
        create_token(store, "nobody")


def test_a_token_cannot_name_an_account_that_does_not_exist(store: Store) -> None:  # noqa: F811
    with pytest.raises(StoreError):
        store.add_api_token(ApiToken(token_id="abc", username="ghost", label="",
                                     token_hash="00", created_at=datetime.now(UTC)))
