"""The demo's traffic model: arrivals follow the day profile, reproducibly; callers take
the officer routes in the mix's shares."""

from __future__ import annotations

import random

import pytest

from lab.traffic import (
    DEMO_ROUTES,
    DayProfile,
    LabOfficers,
    Peak,
    Route,
    RouteMix,
    arrival_times,
    day_calls,
)


def test_same_seed_same_day() -> None:
    profile = DayProfile(day_seconds=300)
    first = list(arrival_times(profile, random.Random(7)))
    second = list(arrival_times(profile, random.Random(7)))
    assert first == second
    assert first, "a day with no arrivals would pass every check below"
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


def test_a_day_with_no_peaks_and_no_lunch_has_one_rate() -> None:
    # bench/bench_soak.py's steady traffic
    profile = DayProfile(calls_per_minute=15, peaks=(), lunch=None)
    assert {profile.rate_at(i / 100) for i in range(100)} == {15 / 60}


def test_opening_callers_ring_first_on_top_of_the_day() -> None:
    mix = RouteMix(weights=((Route.FRONT_DESK, 1.0),),
                   opening=(Route.BUSY_OFFICER, Route.NO_ANSWER), opening_gap_seconds=0.5)
    profile = DayProfile(day_seconds=300, calls_per_minute=1, routes=mix)
    calls = list(day_calls(profile, random.Random(1)))
    times = [t for t, _ in calls]
    assert times == sorted(times)
    assert [route for _, route in calls].count(Route.BUSY_OFFICER) == 1
    assert calls[:2] == [(0.0, Route.BUSY_OFFICER), (0.5, Route.NO_ANSWER)]
    assert len(calls) > 2
    assert {route for _, route in calls[2:]} == {Route.FRONT_DESK}


def test_route_shares_follow_the_weights() -> None:
    rng = random.Random(2)
    routes = [DEMO_ROUTES.draw(rng) for _ in range(20_000)]
    for route, weight in DEMO_ROUTES.weights:
        share = routes.count(route) / len(routes)
        assert abs(share - weight / sum(w for _, w in DEMO_ROUTES.weights)) < 0.02, route


def test_default_day_stays_at_the_front_desk() -> None:
    rng = random.Random(3)
    assert {route for _, route in day_calls(DayProfile(), rng)} == {Route.FRONT_DESK}


def test_the_demo_day_shows_every_officer_flow() -> None:
    assert set(DEMO_ROUTES.opening) == set(Route) - {Route.FRONT_DESK}


def test_bad_weights_are_refused() -> None:
    with pytest.raises(ValueError, match="route weights"):
        RouteMix(weights=((Route.TRANSFER, -1.0),))
    with pytest.raises(ValueError, match="route weights"):
        RouteMix(weights=())


def test_each_officer_route_has_its_officer() -> None:
    officers, rng = LabOfficers(), random.Random(4)
    assert officers.extension_for(Route.FRONT_DESK, rng) is None
    assert officers.extension_for(Route.TRANSFER, rng) in officers.answering
    assert officers.extension_for(Route.BUSY_OFFICER, rng) == officers.busy
    assert officers.extension_for(Route.OUT_OF_OFFICE, rng) == officers.out
    assert officers.extension_for(Route.NO_ANSWER, rng) == officers.no_answer
