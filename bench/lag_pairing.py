"""When did each counted call show on /metrics? Pairs the PBX's event times with polled
counter samples: a counter is monotone, so the k-th call counted (in PBX time order) became
visible between the last poll that read fewer than k and the first that read k or more."""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class CounterSample:
    """One poll: sent and received in host wall-clock seconds (the PBX's clock is the same
    machine's), and the counter's value, rendered somewhere between the two."""

    sent: float
    received: float
    value: float


@dataclass(frozen=True)
class VisibleLag:
    """Seconds from the PBX's event to the counter showing it: `lag` the middle of the
    window the poll allows, `resolution` its half-width (the true lag is within ± that)."""

    event_time: float
    lag: float
    resolution: float


def visible_lags(event_times: Sequence[float], samples: Sequence[CounterSample], *,
                 baseline: float) -> list[VisibleLag | None]:
    """The lag of each event, in the order of `event_times`: the event with the k-th earliest
    time is the counter's (baseline + k)-th count. None: no poll ever read that count (the
    call was never counted, or counted after the last poll).

    `samples` in the order they were taken; their values must not go down."""
    values = [s.value for s in samples]
    if any(b < a for a, b in itertools.pairwise(values)):
        raise ValueError("counter samples go down: not one monotone counter")
    order = sorted(range(len(event_times)), key=lambda i: event_times[i])
    lags: list[VisibleLag | None] = [None] * len(event_times)
    for rank, index in enumerate(order, start=1):
        first = bisect.bisect_left(values, baseline + rank)
        if first == len(samples):
            continue
        # Not visible before its own event; counted at the first poll: by then, that is all.
        at = event_times[index]
        low = max(at, samples[first - 1].sent) if first > 0 else at
        high = samples[first].received
        lags[index] = VisibleLag(event_time=at, lag=(low + high) / 2 - at,
                                 resolution=(high - low) / 2)
    return lags


def nearest_rank(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (p99 of 50 values is the largest): no interpolation
    between two calls' lags, so the figure is one call's real lag."""
    if not values:
        return math.nan
    if not 0 < fraction <= 1:
        raise ValueError(f"percentile fraction {fraction} not in (0, 1]")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]
