"""The k-th call by PBX time is visible at the first poll whose counter reads k or more."""

import math

import pytest

from bench.lag_pairing import CounterSample, nearest_rank, visible_lags


def _poll(at: float, value: float) -> CounterSample:
    return CounterSample(sent=at - 0.01, received=at, value=value)


def test_each_call_is_visible_at_the_first_poll_that_counts_it() -> None:
    samples = [_poll(10.0, 5), _poll(10.1, 5), _poll(10.2, 6), _poll(10.3, 8)]
    # Given out of time order: the earliest event is the 6th count, the others the 7th, 8th.
    lags = visible_lags([10.12, 10.05, 10.15], samples, baseline=5)
    assert [lag.lag if lag else None for lag in lags] == pytest.approx(
        [(10.19 + 10.3) / 2 - 10.12, (10.09 + 10.2) / 2 - 10.05, (10.19 + 10.3) / 2 - 10.15])
    assert all(lag is not None and lag.resolution == pytest.approx(0.055) for lag in lags)


def test_a_count_no_poll_read_has_no_lag() -> None:
    lags = visible_lags([1.0, 2.0], [_poll(1.5, 1), _poll(3.0, 1)], baseline=0)
    assert lags[0] is not None
    assert lags[1] is None


def test_a_count_already_there_at_the_first_poll_is_bounded_by_its_event_and_that_poll() -> None:
    (lag,) = visible_lags([0.5], [_poll(1.0, 1)], baseline=0)
    assert lag is not None
    assert lag.lag == pytest.approx(0.25)
    assert lag.resolution == pytest.approx(0.25)


def test_a_poll_sent_before_the_event_bounds_the_lag_by_the_event() -> None:
    (lag,) = visible_lags([1.0], [_poll(0.995, 0), _poll(1.05, 1)], baseline=0)
    assert lag is not None
    assert lag.lag == pytest.approx(0.025)


def test_samples_of_a_counter_that_goes_down_are_refused() -> None:
    with pytest.raises(ValueError, match="monotone"):
        visible_lags([1.0], [_poll(1.0, 2), _poll(2.0, 1)], baseline=0)


def test_nearest_rank_is_one_real_value() -> None:
    values = [float(n) for n in range(1, 51)]
    assert nearest_rank(values, 0.5) == 25.0
    assert nearest_rank(values, 0.99) == 50.0
    assert nearest_rank(list(range(1, 201)), 0.99) == 198
    assert math.isnan(nearest_rank([], 0.5))
    with pytest.raises(ValueError, match="fraction"):
        nearest_rank(values, 0)
