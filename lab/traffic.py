"""A compressed working day of calls for the demo: Poisson arrivals rising at the morning and
afternoon peaks, receptionists answering in a realistic spread, callers who give up, and
callers the front desk puts through to officers who answer, are busy, are out or don't answer.
The callers are SIP user agents on the lab's trunk and every phone is a SIP phone (lab/sip/)."""

from __future__ import annotations

import asyncio
import heapq
import logging
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from lab.sip.phones import ScenarioError, SipPhones, SippRun
from lab.sip.scenarios import Answer, NoAnswer
from monitor.ami import AmiClient
from monitor.ami.officer_status import set_officer_status
from monitor.core.directory import OfficerStatus

log = logging.getLogger(__name__)

RECEPTIONISTS = ("101", "102", "103")  # lab/sip/phonebook.py


class Route(StrEnum):
    """What happens to a caller after the front desk answers."""

    FRONT_DESK = "front_desk"  # served (or abandoned) at the desk
    TRANSFER = "transfer"  # announced transfer to an officer who answers (T-d, T-e)
    BUSY_OFFICER = "busy_officer"  # the officer is on a call: status every 20 s (T-f)
    OUT_OF_OFFICE = "out_of_office"  # a message, then a callback record (T-h)
    NO_ANSWER = "no_answer"  # the officer doesn't answer: back to the front desk (T-g)


@dataclass(frozen=True)
class LabOfficers:
    """Which of the lab's officers (asterisk_conf/officers.toml) plays each part; `colleague`
    is the staff phone whose calls keep the busy officer busy."""

    answering: tuple[str, ...] = ("2102", "2301")
    busy: str = "2101"
    out: str = "2202"
    no_answer: str = "2201"
    colleague: str = "2302"

    def extension_for(self, route: Route, rng: random.Random) -> str | None:
        if route is Route.TRANSFER:
            return rng.choice(self.answering)
        return {Route.BUSY_OFFICER: self.busy, Route.OUT_OF_OFFICE: self.out,
                Route.NO_ANSWER: self.no_answer}.get(route)


@dataclass(frozen=True)
class RouteMix:
    """Share of callers taking each route. `opening`: callers who ring as the day opens, one
    every `opening_gap_seconds` on top of the day's arrivals, so every flow shows at once."""

    weights: tuple[tuple[Route, float], ...] = ((Route.FRONT_DESK, 1.0),)
    opening: tuple[Route, ...] = ()
    opening_gap_seconds: float = 2.0

    def __post_init__(self) -> None:
        if not self.weights or any(w < 0 for _, w in self.weights) or \
                sum(w for _, w in self.weights) <= 0:
            raise ValueError(f"route weights must be >= 0 with a positive total: {self.weights}")

    def draw(self, rng: random.Random) -> Route:
        routes = [r for r, _ in self.weights]
        return rng.choices(routes, weights=[w for _, w in self.weights])[0]


DEMO_ROUTES = RouteMix(
    weights=((Route.FRONT_DESK, 0.62), (Route.TRANSFER, 0.16), (Route.BUSY_OFFICER, 0.08),
             (Route.OUT_OF_OFFICE, 0.08), (Route.NO_ANSWER, 0.06)),
    opening=(Route.BUSY_OFFICER, Route.TRANSFER, Route.OUT_OF_OFFICE, Route.NO_ANSWER),
)

# A caller put through to an officer stays on the line long enough for that flow to finish.
ROUTE_PATIENCE_SECONDS = {Route.TRANSFER: 90.0, Route.BUSY_OFFICER: 150.0,
                          Route.OUT_OF_OFFICE: 30.0, Route.NO_ANSWER: 120.0}


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
    lunch: tuple[float, float] | None = (0.45, 0.55)  # fewer calls at lunch; None: no lunch
    patience_mean_seconds: float = 40.0  # callers' patience, exponential
    answer_median_seconds: float = 6.0  # a phone's ring-to-answer, lognormal, drawn per phone
    answer_spread: float = 0.6
    talk_mean_seconds: float = 20.0  # a phone's talk time, exponential + 3 s, drawn per phone
    routes: RouteMix = RouteMix()
    officer_busy_seconds: float = 50.0  # the busy officer's calls: long enough for 2+ messages
    officer_free_seconds: float = 15.0

    def rate_at(self, fraction: float) -> float:
        """Arrivals per second at a point of the day (0 = opening, 1 = closing)."""
        rate = self.calls_per_minute / 60.0
        for peak in self.peaks:
            rate *= 1 + (peak.factor - 1) * math.exp(-(((fraction - peak.at) / peak.width) ** 2))
        if self.lunch is not None and self.lunch[0] <= fraction <= self.lunch[1]:
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


def day_calls(profile: DayProfile, rng: random.Random) -> Iterator[tuple[float, Route]]:
    """The day's callers in time order: (seconds from opening, route), the opening callers
    merged with the Poisson arrivals, each of which draws its route from the mix."""
    mix = profile.routes
    opening = ((n * mix.opening_gap_seconds, route) for n, route in enumerate(mix.opening))
    arrivals = ((t, mix.draw(rng)) for t in arrival_times(profile, rng))
    return heapq.merge(opening, arrivals, key=lambda call: call[0])


@dataclass
class TrafficStats:
    placed: int = 0
    failed: int = 0
    transferred: int = 0
    by_route: dict[Route, int] = field(default_factory=dict)
    transferred_to: dict[str, int] = field(default_factory=dict)  # officer's extension -> calls


# Told of each call as it is placed: the caller's number, its route, the caller's SIPp.
PlacedCall = Callable[[str, Route, SippRun], None]


class TrafficSimulator:
    """Places the day's calls into the lab PBX and runs the phones that take them.

    Receptionists 101-103 are the front desk (rrmemory); each phone answers after a delay and
    talks for a time drawn once when it starts: a SIPp phone runs one scenario for every call
    it takes, so the spread of waits comes from three different phones and the queueing at
    the peaks, not from a new draw per call. Each caller is a SIPp of its own whose patience
    is drawn per call. Officer routes need `ami` opened with events on: the receptionist's
    call is blind-transferred (AMI `BlindTransfer`) when the queue's `AgentConnect` says she
    has answered; the busy officer is busy because a colleague calls them, again and again.
    """

    def __init__(self, ami: AmiClient, phones: SipPhones, profile: DayProfile | None = None, *,
                 seed: int = 1, loop_days: bool = False,
                 officers: LabOfficers | None = None,
                 on_placed: PlacedCall | None = None) -> None:
        self.ami = ami
        self.phones = phones
        self.profile = profile or DayProfile()
        self.officers = officers or LabOfficers()
        self.rng = random.Random(seed)  # noqa: S311 - a simulation, not a secret
        # The phones' draws apart, so a seed's day (arrivals, routes, patience) is the same
        # however many phones start.
        self.phone_rng = random.Random(f"phones-{seed}")  # noqa: S311
        self.loop_days = loop_days
        self.stats = TrafficStats()
        self._to_transfer: dict[str, str] = {}  # caller number -> officer's extension
        self._transfers: set[asyncio.Task[None]] = set()
        self._on_placed = on_placed
        self._callers: list[SippRun] = []  # callers' SIPps still running (or just ended)

    def answer_delay(self, median: float | None = None) -> float:
        p = self.profile
        return round(min(60.0, self.phone_rng.lognormvariate(
            math.log(median or p.answer_median_seconds), p.answer_spread)), 1)

    def talk_time(self) -> float:
        return round(self.phone_rng.expovariate(1 / self.profile.talk_mean_seconds) + 3, 1)

    @property
    def with_officers(self) -> bool:
        mix = self.profile.routes
        return bool(mix.opening) or any(r is not Route.FRONT_DESK and w > 0
                                        for r, w in mix.weights)

    async def _start_phones(self) -> None:
        """The front desk's phones, and the officers' when the day has officer routes."""
        await self.phones.use_front_desk(RECEPTIONISTS, strategy="rrmemory")
        started = [self.phones.receptionist(
            extension, Answer(after=self.answer_delay(), talk=self.talk_time()), calls=None)
            for extension in RECEPTIONISTS]
        if self.with_officers:
            o = self.officers
            started += [self.phones.officer(
                extension, Answer(after=self.answer_delay(4), talk=self.talk_time()),
                calls=None) for extension in o.answering]
            started.append(self.phones.officer(o.no_answer, NoAnswer(), calls=None))
            # Stays on the line until the other side hangs up: the colleague after the busy
            # spell, a customer when their patience runs out.
            started.append(self.phones.officer(o.busy, Answer(after=1, wait_for_bye=True),
                                               calls=None))
        for phone in started:
            await phone.ready_for(0)

    async def _prepare_officers(self) -> None:
        """Statuses through AstDB, as `callsla officer set-status` does."""
        o = self.officers
        for extension in (*o.answering, o.busy, o.no_answer):
            await set_officer_status(self.ami, extension, OfficerStatus.IN)
        await set_officer_status(self.ami, o.out, OfficerStatus.OUT)

    async def _busy_officer(self) -> None:
        """A colleague calls the busy officer for a long spell, then leaves them free a while,
        again and again (a staff call: not in the charter's figures)."""
        p, o = self.profile, self.officers
        while True:
            try:
                self.phones.call_from(o.colleague, o.busy, talk=p.officer_busy_seconds)
            except ScenarioError as exc:
                log.warning("colleague's call not placed: %s", exc)
            await asyncio.sleep(p.officer_busy_seconds + p.officer_free_seconds)

    async def _front_desk_transfers(self) -> None:
        async for event in self.ami.events():
            if event.event != "AgentConnect":
                continue
            extension = self._to_transfer.pop(event.get("calleridnum", ""), None)
            if extension is not None:
                task = asyncio.create_task(self._transfer(event["destchannel"], extension))
                self._transfers.add(task)
                task.add_done_callback(self._transfers.discard)

    async def _transfer(self, receptionist: str, extension: str) -> None:
        """The receptionist blind-transfers to the officer's extension (the dialplan announces)."""
        await asyncio.sleep(self.rng.uniform(0.5, 1.5))
        for _ in range(20):  # AgentConnect comes just before the receptionist joins the bridge
            reply = await self.ami.action("BlindTransfer", Channel=receptionist,
                                          Context="internal", Exten=extension)
            if reply.succeeded:
                self.stats.transferred += 1
                to = self.stats.transferred_to
                to[extension] = to.get(extension, 0) + 1
                return
            await asyncio.sleep(0.2)
        log.warning("transfer to %s failed: %s", extension, reply.get("message", ""))

    async def run(self, *, drain_seconds: float = 0.0) -> TrafficStats:
        """Place the day's calls (every day's, with `loop_days`). With `drain_seconds`, the
        last day ends when its callers have hung up (or after that long), the transfers of
        the front desk still running: every call placed has then run its course."""
        await self._start_phones()
        helpers = []
        if self.with_officers:
            await self._prepare_officers()
            helpers += [self._busy_officer(), self._front_desk_transfers()]
        tasks = [asyncio.create_task(h) for h in helpers]
        try:
            while True:
                await self._one_day()
                if not self.loop_days:
                    await self._callers_done(drain_seconds)
                    return self.stats
        finally:
            for task in (*tasks, *self._transfers):
                task.cancel()
            await asyncio.gather(*tasks, *self._transfers, return_exceptions=True)

    async def _one_day(self) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        for at, route in day_calls(self.profile, self.rng):
            await asyncio.sleep(max(0.0, start + at - loop.time()))
            self._place(route)

    async def _callers_done(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while any(r.returncode is None for r in self._callers):
            if loop.time() > deadline:
                log.warning("callers still on the line after %.0f s", timeout)
                return
            await asyncio.sleep(0.5)  # child processes: nothing to await but their exit

    def _place(self, route: Route) -> None:
        # One call from one SIPp: SIPp appends the call's number (1), so ten digits in all.
        numbers = f"01{self.rng.randrange(10**7):07d}"
        caller = f"{numbers}1"
        patience = ROUTE_PATIENCE_SECONDS.get(route) or round(
            self.rng.expovariate(1 / self.profile.patience_mean_seconds) + 2, 1)
        extension = self.officers.extension_for(route, self.rng)
        if extension is not None:
            self._to_transfer[caller] = extension
        try:
            run = self.phones.calls_in(1, numbers=numbers, per_second=1, patience=patience)
            self.stats.placed += 1
            self.stats.by_route[route] = self.stats.by_route.get(route, 0) + 1
        except (ScenarioError, OSError) as exc:
            self._to_transfer.pop(caller, None)
            self.stats.failed += 1
            log.warning("call not placed: %s", exc)
            return
        self._callers = [r for r in self._callers if r.returncode is None] + [run]
        if self._on_placed is not None:
            self._on_placed(caller, route, run)
