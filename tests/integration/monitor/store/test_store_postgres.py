"""The store's tests again, on the lab's real PostgreSQL (each test in a fresh schema)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

from lab import Lab
from monitor.store import SCHEMA_VERSION, Store, open_store
from tests.unit.monitor.store.test_store import (  # noqa: F401 - collected again here, with the PostgreSQL store
    test_a_batch_commits_once_or_not_at_all,
    test_a_naive_time_is_refused,
    test_a_saved_leg_reads_back_equal,
    test_an_event_is_recorded_once,
    test_backfill_marks_move_forward,
    test_callbacks_are_filtered_and_closed,
    test_legs_between_reads_a_half_open_window_in_chunks,
    test_legs_of_call_join_every_leg,
    test_legs_with_equal_offer_times_are_all_read_across_chunks,
    test_new_store_is_at_the_latest_schema_version,
    test_open_legs_are_those_in_progress,
    test_person_ring_figures_follow_their_legs_window_and_labels,
    test_purge_of_one_pbx_keeps_the_others,
    test_purge_removes_only_caller_records_older_than_the_cut,
    test_rings_read_back_by_leg_in_the_order_they_ended,
    test_saving_a_leg_again_updates_it_in_place,
    test_status_announcements_read_back_in_time_order,
    test_times_from_any_zone_compare_as_instants,
)


@contextmanager
def fresh_schema_url(lab: Lab) -> Iterator[str]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    base = lab.config.postgres_url
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
        try:
            yield f"{base}?options=-csearch_path%3D{schema}"
        finally:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def store(lab: Lab) -> Iterator[Store]:
    with fresh_schema_url(lab) as url, open_store(url) as opened:
        yield opened


def test_postgres_reopens_at_the_same_version(lab: Lab) -> None:
    with fresh_schema_url(lab) as url:
        open_store(url).close()
        with open_store(url) as again:
            assert again.dialect == "postgresql"
            assert again.schema_version == SCHEMA_VERSION
