"""A compressed working day of calls for the demo: Poisson arrivals rising at the morning and
afternoon peaks, receptionists answering in a realistic spread, callers who give up."""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from lab.calls import place_inbound_call, set_phone
from monitor.ami import AmiClient, AmiError

log = logging.getLogger(__name__)

RECEPTIONISTS = ("r1", "r2", "r3")


@dataclass(frozen=True)
class Peak:
    """A bump in the arrival rate: centred at `at` (fraction of the day), `width` wide."""

    at: float
    width: float
    factor: float


@dataclass(frozen=True)
class DayProfile:
    """A working day squeezed into `day_seconds` of wall-clock time."""

    day_seconds: float = 600.0
    calls_per_minute: float = 6.0  # base rate in wall-clock minutes
    peaks: tuple[Peak, ...] = field(
        default=(Peak(at=0.25, width=0.08, factor=2.5), Peak(at=0.70, width=0.10, factor=2.0))
    )
    lunch: tuple[float, float] = (0.45, 0.55)  # fewer calls at lunch
    patience_mean_seconds: float = 40.0  # callers' patience, exponential
    answer_median_seconds: float = 6.0  # receptionists' ring-to-answer, lognormal
    answer_spread: float = 0.6
    talk_mean_seconds: float = 20.0

    def rate_at(self, fraction: float) -> float:
        """Arrivals per second at a point of the day (0 = opening, 1 = closing)."""
        rate = self.calls_per_minute / 60.0
        for peak in self.peaks:
            rate *= 1 + (peak.factor - 1) * math.exp(-(((fraction - peak.at) / peak.width) ** 2))
        if self.lunch[0] <= fraction <= self.lunch[1]:
            rate *= 0.5
        return rate

    @property
    def peak_rate(self) -> float:
        return max(self.rate_at(i / 200) for i in range(201))


def arrival_times(profile: DayProfile, rng: random.Random) -> Iterator[float]:
    """Seconds from the start of the day of each arrival: a non-homogeneous Poisson process,
    drawn by thinning a homogeneous one at the peak rate."""
    ceiling = profile.peak_rate
    t = 0.0
    while True:
        t += rng.expovariate(ceiling)
        if t >= profile.day_seconds:
            return
        if rng.random() * ceiling <= profile.rate_at(t / profile.day_seconds):
            yield t


@dataclass
class TrafficStats:
    placed: int = 0
    failed: int = 0


class TrafficSimulator:
    """Places the day's calls into the lab PBX and keeps the receptionists' answer times moving."""

    def __init__(self, ami: AmiClient, profile: DayProfile | None = None, *, seed: int = 1,
                 loop_days: bool = False) -> None:
        self.ami = ami
        self.profile = profile or DayProfile()
        self.rng = random.Random(seed)  # noqa: S311 - a simulation, not a secret
        self.loop_days = loop_days
        self.stats = TrafficStats()

    def answer_delay(self) -> float:
        p = self.profile
        return round(min(60.0, self.rng.lognormvariate(math.log(p.answer_median_seconds),
                                                       p.answer_spread)), 1)

    async def _reshuffle_receptionists(self) -> None:
        while True:
            for phone in RECEPTIONISTS:
                await set_phone(self.ami, phone, answer_after=self.answer_delay(),
                                talk_for=round(self.rng.expovariate(
                                    1 / self.profile.talk_mean_seconds) + 3, 1))
            await asyncio.sleep(5)

    async def run(self) -> TrafficStats:
        reshuffle = asyncio.create_task(self._reshuffle_receptionists())
        try:
            while True:
                await self._one_day()
                if not self.loop_days:
                    return self.stats
        finally:
            reshuffle.cancel()
            await asyncio.gather(reshuffle, return_exceptions=True)

    async def _one_day(self) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        for at in arrival_times(self.profile, self.rng):
            await asyncio.sleep(max(0.0, start + at - loop.time()))
            patience = round(self.rng.expovariate(1 / self.profile.patience_mean_seconds) + 2, 1)
            try:
                await place_inbound_call(self.ami, caller_id=f"01{self.rng.randrange(10**8):08d}",
                                         patience=patience)
                self.stats.placed += 1
            except AmiError as exc:
                self.stats.failed += 1
                log.warning("call not placed: %s", exc)
