"""The built-in wallboard's figures, windows and HTTP routes, from a real metrics registry."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry

from monitor.core.charter import load_charter
from monitor.core.metrics import CallMetrics, create_call_metrics
from monitor.live.http_server import MonitorHttpServer
from monitor.live.wallboard import Wallboard, WallboardFigures
from monitor.live.wallboard.figures import WINDOW_SAMPLES, compute_figures, window_samples
from monitor.live.wallboard.snapshots import (
    KEEP_EVERY_SECONDS,
    WINDOW_SECONDS,
    Snapshot,
    SnapshotHistory,
    read_snapshot,
)

CHARTER = load_charter()
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Kuala Lumpur


def _metrics() -> CallMetrics:
    return create_call_metrics(CollectorRegistry())


def _answer(m: CallMetrics, wait: float, department: str = "") -> None:
    queue = "frontdesk" if not department else ""
    m.calls_offered.labels("hq", queue, department).inc()
    m.calls_answered.labels("hq", queue, department).inc()
    m.answer_wait.labels("hq", queue, department).observe(wait)


def _miss(m: CallMetrics, cause: str, department: str = "") -> None:
    queue = "frontdesk" if not department else ""
    m.calls_offered.labels("hq", queue, department).inc()
    m.calls_missed.labels("hq", queue, department, cause).inc()


def _figures(m: CallMetrics, *, window: Snapshot | None = None,
             day: Snapshot | None = None) -> WallboardFigures:
    start = Snapshot(taken_at=T0, monotonic=0.0)
    now = read_snapshot(m.registry, now=T0)
    return compute_figures(now=now, window_start=window or start, day_start=day or start,
                           charter=CHARTER)


def test_answer_rate_counts_every_offered_leg_in_the_denominator() -> None:
    m = _metrics()
    for wait in (2, 3, 9.5, 10, 12):
        _answer(m, wait)
    _miss(m, "abandoned")
    _miss(m, "timeout", department="licensing")
    f = _figures(m)
    assert f.offered_today == 7
    assert f.answer_rate_today == pytest.approx(4 / 7)  # 10.0 falls in the le="10.0" bucket
    assert f.answer_rate_15m == pytest.approx(4 / 7)
    assert f.missed_today == {"abandoned": 1, "timeout": 1}
    rows = {row.department: row for row in f.departments}
    assert rows[""].offered == 6
    assert rows[""].answer_rate == pytest.approx(4 / 6)
    assert rows["licensing"].answer_rate == 0
    assert rows["licensing"].missed == 1


def test_no_offered_call_gives_no_rate_rather_than_zero() -> None:
    f = _figures(_metrics())
    assert f.answer_rate_15m is None
    assert f.answer_rate_today is None
    assert f.status_on_time_15m is None
    assert f.departments == []


def test_gauges_are_figures_now() -> None:
    m = _metrics()
    m.callers_waiting.labels("hq", "frontdesk", "").set(3)
    m.longest_wait.labels("hq", "frontdesk", "").set(42)
    m.longest_wait.labels("hq", "", "licensing").set(7)
    m.callbacks_open.labels("hq", "licensing").set(4)
    m.callbacks_overdue.labels("hq", "licensing").set(1)
    f = _figures(m)
    assert (f.callers_waiting, f.longest_wait_seconds) == (3, 42)
    assert (f.callbacks_open, f.callbacks_overdue) == (4, 1)


def test_status_messages_within_twenty_seconds_and_one_of_tolerance_are_on_time() -> None:
    m = _metrics()
    for interval in (19.999, 20.001, 20.9, 27.9):
        m.status_interval.labels("hq", "", "licensing").observe(interval)
    assert _figures(m).status_on_time_15m == pytest.approx(3 / 4)


def test_the_front_desk_row_has_its_queue_callers_status_messages() -> None:
    m = _metrics()
    m.status_interval.labels("hq", "frontdesk", "")  # declared, nothing heard: no row
    m.status_interval.labels("hq", "", "licensing").observe(20.0)
    f = _figures(m)
    assert [(row.department, row.status_on_time) for row in f.departments] == [
        ("licensing", 1.0)]
    for interval in (20.002, 19.998, 23.0):
        m.status_interval.labels("hq", "frontdesk", "").observe(interval)
    _answer(m, 4.0)
    f = _figures(m)
    rows = {row.department: row for row in f.departments}
    assert rows[""].status_on_time == pytest.approx(2 / 3)
    assert rows["licensing"].status_on_time == 1.0
    assert f.status_on_time_15m == pytest.approx(3 / 4)


def test_windows_subtract_the_counters_at_their_start() -> None:
    m = _metrics()
    for _ in range(4):
        _miss(m, "abandoned")
    earlier = read_snapshot(m.registry, now=T0)
    _answer(m, 3)
    f = _figures(m, window=earlier)
    assert f.answer_rate_15m == 1.0
    assert f.answer_rate_today == pytest.approx(1 / 5)


def test_history_keeps_the_newest_reading_at_least_fifteen_minutes_old() -> None:
    readings = [Snapshot(taken_at=T0 + timedelta(seconds=s), monotonic=float(s))
                for s in range(0, 2000, 100)]
    history = SnapshotHistory(timezone=CHARTER.timezone, first=readings[0])
    for reading in readings[1:9]:  # up to 800 s: younger than the window
        history.add(reading)
    assert history.window_start(800.0) is readings[0]
    for reading in readings[9:]:
        history.add(reading)
    assert history.window_start(1900.0).monotonic == 1000.0  # exactly 900 s old
    assert 1900.0 - history.window_start(1900.0).monotonic >= WINDOW_SECONDS


def test_history_length_is_bounded_whatever_the_request_rate() -> None:
    # A wallboard asking ten times a second for an hour (bench/bench_soak.py found the
    # history growing by one full reading per request).
    history = SnapshotHistory(timezone=CHARTER.timezone,
                              first=Snapshot(taken_at=T0, monotonic=0.0))
    for tenth in range(1, 36_000):
        history.add(Snapshot(taken_at=T0 + timedelta(seconds=tenth / 10),
                             monotonic=tenth / 10))
    assert len(history) <= WINDOW_SECONDS / KEEP_EVERY_SECONDS + 2
    assert 3599.9 - history.window_start(3599.9).monotonic == pytest.approx(
        WINDOW_SECONDS, abs=KEEP_EVERY_SECONDS)


def test_kept_readings_hold_only_what_the_windows_subtract() -> None:
    m = _metrics()
    _miss(m, "abandoned")
    m.person_rings.labels("hq", "101", "answered").inc()
    m.person_answer_wait.labels("hq", "101").observe(4)
    first = replace(read_snapshot(m.registry, now=T0), monotonic=0.0)
    history = SnapshotHistory(timezone=CHARTER.timezone, first=first,
                              keep=window_samples(CHARTER))
    whole = replace(read_snapshot(m.registry, now=T0), monotonic=WINDOW_SECONDS)
    history.add(whole)
    _answer(m, 3)
    later = replace(read_snapshot(m.registry, now=T0), monotonic=2 * WINDOW_SECONDS)
    history.add(later)
    kept = history.window_start(later.monotonic)
    assert kept.monotonic == whole.monotonic
    assert {name for name, _labels in kept.samples} <= WINDOW_SAMPLES
    assert {name for name, _labels in whole.samples} - WINDOW_SAMPLES  # person families
    buckets = {dict(labels)["le"] for name, labels in kept.samples if name.endswith("_bucket")}
    assert buckets <= {"10.0", "21.0"}  # the charter's: 10 s to answer, 20 s + 1 s of status
    figures = {"window_start": kept, "day_start": first, "charter": CHARTER}
    assert compute_figures(now=later, **figures) == compute_figures(
        now=later, **{**figures, "window_start": whole})


def test_a_new_local_day_starts_a_new_daily_baseline() -> None:
    history = SnapshotHistory(timezone=CHARTER.timezone,
                              first=Snapshot(taken_at=T0, monotonic=0.0))
    before = Snapshot(taken_at=datetime(2026, 3, 2, 15, 59, tzinfo=UTC), monotonic=1.0)
    after = Snapshot(taken_at=datetime(2026, 3, 2, 16, 0, tzinfo=UTC), monotonic=2.0)  # 00:00 MYT
    history.add(before)
    assert history.day_start().taken_at == T0
    history.add(after)
    assert history.day_start() is after


def test_a_charter_standard_with_no_histogram_bucket_is_refused() -> None:
    with pytest.raises(ValueError, match="answer_within_seconds=11"):
        Wallboard(CollectorRegistry(), charter=replace(CHARTER, answer_within_seconds=11.0))


async def _get(port: int, path: str) -> tuple[str, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    raw = await reader.read()
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    return head.decode(), body


async def test_monitor_serves_the_page_and_its_figures() -> None:
    m = _metrics()
    _answer(m, 30)  # counted before the monitor's start (rebuilt from the store)
    board = Wallboard(m.registry, charter=CHARTER)
    board.begin()
    _answer(m, 4)
    server = MonitorHttpServer(registry=m.registry, health=lambda: {"ok": True},
                               pages=board.pages())
    await server.start("127.0.0.1", 0)
    assert server.port is not None
    port = server.port
    try:
        head, page = await _get(port, "/wallboard")
        assert "text/html" in head
        assert "Dijawab ≤ 10 saat" in page.decode()
        assert "Answered within 10 s" in page.decode()
        head, body = await _get(port, "/wallboard.json")
        figures = json.loads(body)
        assert figures["answer_rate_today"] == 1.0  # windows start at the first reading
        assert figures["offered_today"] == 1
        assert figures["charter_version"] == CHARTER.version
        head, _ = await _get(port, "/metrics")
        assert head.startswith("HTTP/1.1 200")
    finally:
        await server.close()
