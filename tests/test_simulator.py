"""The demo's compressed working day: Poisson arrivals shaped like an office day, answer times
spread around the charter's 10 s, and callers who give up."""

from __future__ import annotations

import pytest

from lab.simulator import HOURLY_RATE, OPENS_AT_HOUR, plan_day, rate_at

DAY_SECONDS = 600.0


def test_a_day_is_deterministic_for_a_seed_and_ordered_in_time() -> None:
    plan = plan_day(calls_per_day=120, day_seconds=DAY_SECONDS, seed=7)
    assert plan == plan_day(calls_per_day=120, day_seconds=DAY_SECONDS, seed=7)
    times = [call.at for call in plan]
    assert times == sorted(times)
    assert times[0] >= 0
    assert times[-1] < DAY_SECONDS


def test_about_the_asked_number_of_calls_over_many_days() -> None:
    counts = [len(plan_day(calls_per_day=120, day_seconds=DAY_SECONDS, seed=s))
              for s in range(40)]
    assert 110 <= sum(counts) / len(counts) <= 130


def test_the_peaks_are_busier_than_lunch_and_opening() -> None:
    per_hour = dict.fromkeys(range(OPENS_AT_HOUR, OPENS_AT_HOUR + len(HOURLY_RATE)), 0)
    for seed in range(40):
        for call in plan_day(calls_per_day=120, day_seconds=DAY_SECONDS, seed=seed):
            per_hour[call.office_hour] += 1
    assert per_hour[10] > 2 * per_hour[12]  # 10:00 peak against the lunch hour
    assert per_hour[10] > per_hour[8]
    assert per_hour[14] > per_hour[12]


def test_some_answers_miss_ten_seconds_and_some_callers_give_up() -> None:
    calls = [c for s in range(20) for c in plan_day(calls_per_day=120, day_seconds=DAY_SECONDS,
                                                   seed=s)]
    late = sum(c.answer_after > 10 for c in calls) / len(calls)
    abandoned = sum(c.abandons for c in calls) / len(calls)
    assert 0.05 <= late <= 0.30
    assert 0.01 <= abandoned <= 0.25
    assert all(0 < c.answer_after <= 14 for c in calls)  # within the queue's 15 s ring
    assert all(c.patience >= 3 for c in calls)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="must be > 0"):
        plan_day(calls_per_day=0, day_seconds=DAY_SECONDS)
    with pytest.raises(ValueError, match="fraction_of_day"):
        rate_at(1.0)
