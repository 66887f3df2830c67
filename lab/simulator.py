"""A compressed working day of front-desk calls for the demo and its tests.

Arrivals are a Poisson process whose rate follows an agency's day (08:00-17:00, peaks in the
mid-morning and mid-afternoon, a dip at lunch), squeezed into a few minutes. What a caller
experiences is not squeezed: ring times and patience stay in real seconds, because the
charter's 10 s is what the figures measure. Receptionists answer in a log-normal spread
(median about 3.5 s, half as slow again at the busiest hour), and a caller whose patience
runs out first abandons.
"""

from __future__ import annotations

import asyncio
import math
import random
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from lab.calls import place_inbound_call, set_phone
from lab.config import LabConfig
from monitor.ami import AmiClient

OPENS_AT_HOUR = 8
# Relative call rate for each office hour from 08:00: busy mid-morning and mid-afternoon.
HOURLY_RATE = (0.6, 1.3, 1.6, 1.2, 0.5, 0.9, 1.4, 1.3, 0.7)
ANSWER_MEDIAN_SECONDS = 3.5
ANSWER_SPREAD = 0.55  # sigma of the log-normal
PEAK_SLOWDOWN = 0.5  # answers take up to 50 % longer at the busiest hour
# The lab's front-desk queue rings a receptionist for 15 s (asterisk_conf/queues.conf
# `timeout`); a call's delay applies to whoever rings, so a longer one would never be answered
# and would hold up the callers behind it.
ANSWER_MAX_SECONDS = 14.0
PATIENCE_MIN_SECONDS = 3.0
PATIENCE_MEAN_SECONDS = 45.0
TALK_SECONDS = 8.0  # each answered call, so three receptionists can keep up off-peak
RECEPTIONISTS = ("r1", "r2", "r3")


@dataclass(frozen=True)
class PlannedCall:
    """One caller: when they ring (seconds into the compressed day) and how it goes."""

    at: float
    office_hour: int  # the hour of the agency's day it stands for, e.g. 10 for 10:00-11:00
    answer_after: float  # real seconds a receptionist takes to pick up
    patience: float  # real seconds the caller waits before hanging up

    @property
    def abandons(self) -> bool:
        return self.patience < self.answer_after


def rate_at(fraction_of_day: float) -> float:
    """Relative arrival rate at a point of the office day (0 = opening, 1 = closing)."""
    if not 0 <= fraction_of_day < 1:
        raise ValueError(f"fraction_of_day must be in [0, 1), not {fraction_of_day}")
    return HOURLY_RATE[int(fraction_of_day * len(HOURLY_RATE))]


def plan_day(*, calls_per_day: float, day_seconds: float, seed: int | None = None
             ) -> list[PlannedCall]:
    """Arrivals by thinning a Poisson process of the peak rate; about `calls_per_day` calls."""
    if calls_per_day <= 0 or day_seconds <= 0:
        raise ValueError("calls_per_day and day_seconds must be > 0")
    rng = random.Random(seed)  # noqa: S311 - simulated callers, not secrets
    mean_rate = sum(HOURLY_RATE) / len(HOURLY_RATE)
    peak = max(HOURLY_RATE)
    arrivals_per_second = calls_per_day / day_seconds * peak / mean_rate
    plan: list[PlannedCall] = []
    t = rng.expovariate(arrivals_per_second)
    while t < day_seconds:
        fraction = t / day_seconds
        rate = rate_at(fraction)
        if rng.random() < rate / peak:
            slowdown = 1 + PEAK_SLOWDOWN * (rate / peak)
            plan.append(PlannedCall(
                at=t,
                office_hour=OPENS_AT_HOUR + int(fraction * len(HOURLY_RATE)),
                answer_after=round(min(ANSWER_MAX_SECONDS, slowdown * rng.lognormvariate(
                    math.log(ANSWER_MEDIAN_SECONDS), ANSWER_SPREAD)), 1),
                patience=round(PATIENCE_MIN_SECONDS + rng.expovariate(
                    1 / (PATIENCE_MEAN_SECONDS - PATIENCE_MIN_SECONDS)), 1),
            ))
        t += rng.expovariate(arrivals_per_second)
    return plan


async def run_day(ami: AmiClient, plan: list[PlannedCall], *,
                  sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                  on_call: Callable[[int, PlannedCall], None] | None = None,
                  talk_for: float = TALK_SECONDS) -> int:
    """Place each planned call at its time into the lab's front desk; returns calls placed."""
    for phone in RECEPTIONISTS:
        await set_phone(ami, phone, talk_for=talk_for)
    loop = asyncio.get_running_loop()
    started = loop.time()
    for n, call in enumerate(plan):
        await sleep(max(0.0, call.at - (loop.time() - started)))
        await place_inbound_call(ami, caller_id=f"03{n % 10**8:08d}", patience=call.patience,
                                 answer_after=call.answer_after)
        if on_call is not None:
            on_call(n, call)
    return len(plan)


async def simulate_until_stopped(config: LabConfig, *, day_seconds: float,
                                 calls_per_day: float) -> int:
    """Compressed days one after another until SIGINT/SIGTERM; prints each office hour."""
    loop = asyncio.get_running_loop()
    current = asyncio.current_task()
    assert current is not None
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, current.cancel)
    placed = 0
    hour = -1

    def show(_n: int, call: PlannedCall) -> None:
        nonlocal hour, placed
        placed += 1
        if call.office_hour != hour:
            hour = call.office_hour
            print(f"  {hour:02d}:00  {placed} callers so far", flush=True)

    try:
        async with AmiClient(port=config.ports.ami, username=config.ami_user,
                             secret=config.ami_secret, events=False) as ami:
            day = 0
            while True:
                day += 1
                plan = plan_day(calls_per_day=calls_per_day, day_seconds=day_seconds)
                print(f"day {day}: {len(plan)} callers, 08:00-17:00 in {day_seconds:g} s",
                      flush=True)
                await run_day(ami, plan, on_call=show)
    except asyncio.CancelledError:
        print(f"stopped after {placed} calls", flush=True)
    return placed
