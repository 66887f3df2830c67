"""Ring-backs in the store, on the lab's real PostgreSQL (a fresh schema)."""

from __future__ import annotations

from tests.integration.monitor.store.test_store_postgres import store  # noqa: F401 - the PostgreSQL store fixture
from tests.unit.monitor.store.test_ring_backs import (  # noqa: F401 - collected again here, on PostgreSQL
    test_ring_backs_read_back_in_their_window_once_each,
)
