"""The demo's traffic model: arrivals follow the day profile, reproducibly."""

from __future__ import annotations

import random

from lab.traffic import DayProfile, Peak, arrival_times


def test_same_seed_same_day() -> None:
    profile = DayProfile(day_seconds=300)
    first = list(arrival_times(profile, random.Random(7)))
    second = list(arrival_times(profile, random.Random(7)))
    assert first == second
    assert all(0 <= t < 300 for t in first)
    assert first == sorted(first)


def test_arrivals_crowd_at_the_peak() -> None:
    profile = DayProfile(day_seconds=10_000, calls_per_minute=30,
                         peaks=(Peak(at=0.25, width=0.05, factor=3.0),), lunch=(2.0, 2.0))
    times = list(arrival_times(profile, random.Random(1)))
    at_peak = sum(1 for t in times if 0.22 <= t / 10_000 <= 0.28)
    off_peak = sum(1 for t in times if 0.62 <= t / 10_000 <= 0.68)
    assert at_peak > 2 * off_peak


def test_total_matches_the_integrated_rate() -> None:
    profile = DayProfile(day_seconds=20_000, calls_per_minute=12)
    expected = sum(profile.rate_at((i + 0.5) / 1000) for i in range(1000)) * 20
    counts = [len(list(arrival_times(profile, random.Random(seed)))) for seed in range(5)]
    mean = sum(counts) / len(counts)
    assert abs(mean - expected) < 0.05 * expected


def test_lunch_halves_the_rate() -> None:
    profile = DayProfile(peaks=())
    assert profile.rate_at(0.5) == profile.rate_at(0.1) / 2
