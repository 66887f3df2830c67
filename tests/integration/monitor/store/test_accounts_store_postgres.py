"""Console accounts and API tokens on the lab's real PostgreSQL, each test in a fresh schema."""

from __future__ import annotations

from tests.integration.monitor.store.test_store_postgres import store  # noqa: F401 - the PostgreSQL store fixture
from tests.unit.monitor.store.test_accounts_store import (  # noqa: F401 - collected again here, on PostgreSQL
    test_a_token_cannot_name_an_account_that_does_not_exist,
    test_accounts_round_trip_change_and_keep_their_creation_time,
    test_api_tokens_are_kept_hashed_and_revoked,
)
