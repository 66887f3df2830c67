"""The column-wise leg read and the export frame from it, on the lab's real PostgreSQL
(timestamptz values instead of SQLite's text), each test in a fresh schema."""

from __future__ import annotations

from tests.integration.monitor.store.test_store_postgres import store  # noqa: F401 - the PostgreSQL store fixture
from tests.unit.monitor.reports.test_frames import (  # noqa: F401
    test_export_frames_from_columns_equal_those_from_legs,
)
from tests.unit.monitor.store.test_leg_columns import (  # noqa: F401 - collected again here, on PostgreSQL
    test_an_empty_window_gives_no_frames,
    test_departments_queues_and_additive_tables,
    test_leg_frames_hold_what_legs_between_reads_in_the_same_order,
    test_leg_frames_take_the_same_filters,
)
