"""A synthetic quarter of calls (legs, rings, callbacks, status messages) for demos and tests.

The mix is plausible for a Malaysian agency's front desk, not a model of one: most calls are
answered at the front desk within 10 s, some are put through to officers, some of those come
back to the front desk or end in a message and a callback. Seeded, so the same arguments give
the same calls.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from monitor.core.charter import Charter
from monitor.core.records import (
    Callback,
    CallbackStatus,
    CallLeg,
    LegKind,
    MissedCause,
    Outcome,
    PersonRing,
    RingResult,
    StatusAnnouncement,
)
from monitor.reports.periods import Period
from monitor.store import Store

DEPARTMENTS = ("Pentadbiran", "Kewangan", "Perlesenan", "Penguatkuasaan", "Kejuruteraan")
FRONT_DESK_QUEUE = "frontdesk"
_NAMES = ("Ahmad Faizal", "Siti Aminah", "Tan Wei Ming", "Kavitha Raman", "Nurul Huda",
          "Lim Chee Keong", "Muthu Samy", "Aisyah Zainal", "Wong Mei Ling", "Hafiz Rahman")


@dataclass
class SyntheticBatch:
    legs: list[CallLeg] = field(default_factory=list)
    callbacks: list[Callback] = field(default_factory=list)
    status_announcements: list[StatusAnnouncement] = field(default_factory=list)
    rings: list[PersonRing] = field(default_factory=list)


# A front-desk ring gives up after this long and the queue rings the other receptionist.
DESK_RING_SECONDS = 6.0


def _ring(batch: SyntheticBatch, leg: CallLeg, person: str, result: RingResult,
          after: float) -> None:
    """One phone rung for `leg`, ending `after` s into it (derived from the leg: no draws)."""
    batch.rings.append(PersonRing(
        pbx=leg.pbx, leg_id=leg.leg_id, ring_id=f"{leg.leg_id}-{len(batch.rings)}",
        person=person, result=result, ended_at=leg.offered_at + timedelta(seconds=after),
        answer_wait_seconds=leg.answer_wait_seconds if result is RingResult.ANSWERED else None))


def _desk_rings(batch: SyntheticBatch, leg: CallLeg, answered_by: str, other: str) -> None:
    """rrmemory at the front desk: the other receptionist rings first when the wait is long."""
    wait = leg.answer_wait_seconds
    if wait is None:
        end = (leg.ended_at - leg.offered_at).total_seconds() if leg.ended_at else 0.0
        _ring(batch, leg, answered_by, RingResult.NOT_ANSWERED, end)
        return
    if wait > DESK_RING_SECONDS:
        _ring(batch, leg, other, RingResult.NOT_ANSWERED, DESK_RING_SECONDS)
    _ring(batch, leg, answered_by, RingResult.ANSWERED, wait)


def _arrivals(rng: np.random.Generator, period: Period, count: int) -> list[datetime]:
    """Working-day arrivals 08:00-17:30 local, with about 3 % after hours (18:00-21:00)."""
    days = [period.first_day + timedelta(days=n)
            for n in range((period.last_day - period.first_day).days + 1)]
    workdays = [d for d in days if d.weekday() < 5] or days
    day_index = rng.integers(0, len(workdays), count)
    after_hours = rng.random(count) < 0.03
    seconds = np.where(after_hours, rng.uniform(18 * 3600, 21 * 3600, count),
                       rng.uniform(8 * 3600, 17.5 * 3600, count))
    zone = period.start.tzinfo
    return [datetime(d.year, d.month, d.day, tzinfo=zone) + timedelta(seconds=float(s))
            for d, s in zip((workdays[i] for i in day_index), seconds, strict=True)]


def generate_quarter(period: Period, charter: Charter, *, calls: int, pbx: str = "pbx1",
                     seed: int = 2026, batch_calls: int = 50_000) -> Iterator[SyntheticBatch]:
    """Yield the period's calls in batches of about `batch_calls` calls (time order per batch)."""
    rng = np.random.default_rng(seed)
    made = 0
    while made < calls:
        n = min(batch_calls, calls - made)
        yield _batch(rng, period, charter, pbx, made, n)
        made += n


def _batch(rng: np.random.Generator, period: Period, charter: Charter, pbx: str,
           first: int, n: int) -> SyntheticBatch:
    arrivals = _arrivals(rng, period, n)
    desk_wait = rng.lognormal(1.5, 0.7, n)  # median about 4.5 s
    patience = rng.exponential(45.0, n) + 3.0
    draw = rng.random((n, 6))
    dept = rng.integers(0, len(DEPARTMENTS), n)
    batch = SyntheticBatch()
    for i in range(n):
        number = first + i
        at = arrivals[i]
        call_id = f"{int(at.timestamp())}.{number}"
        caller = f"601{number % 10:d}{(number * 7919) % 10_000_000:07d}"
        name = _NAMES[number % len(_NAMES)]
        desk = CallLeg(pbx=pbx, call_id=call_id, leg_id=f"{call_id}-desk", kind=LegKind.FRONT_DESK,
                       offered_at=at, caller_number=caller, caller_name=name,
                       queue=FRONT_DESK_QUEUE, source="synthetic")
        batch.legs.append(desk)
        if at.hour >= 18:
            _miss(desk, MissedCause.AFTER_HOURS, at + timedelta(seconds=8))
            continue
        wait = float(desk_wait[i])
        if draw[i, 0] < 0.01:
            _miss(desk, MissedCause.NO_AGENTS, at + timedelta(seconds=2))
            continue
        if draw[i, 0] < 0.02:
            _miss(desk, MissedCause.TIMEOUT, at + timedelta(seconds=charter.max_wait_seconds))
            _front_desk_status(batch, charter, desk, charter.max_wait_seconds, number)
            continue
        if wait > float(patience[i]):
            _miss(desk, MissedCause.ABANDONED, at + timedelta(seconds=float(patience[i])))
            _desk_rings(batch, desk, "r1", "r2")
            _front_desk_status(batch, charter, desk, float(patience[i]), number)
            continue
        _answer(desk, at + timedelta(seconds=wait), "r1", talk=30.0)
        _desk_rings(batch, desk, "r1", "r2")
        _front_desk_status(batch, charter, desk, wait, number)
        if draw[i, 1] < 0.30:
            _transfer(batch, rng, charter, desk, DEPARTMENTS[dept[i]], draw[i])
    return batch


def _miss(leg: CallLeg, cause: MissedCause, ended: datetime) -> None:
    leg.outcome, leg.missed_cause, leg.ended_at = Outcome.MISSED, cause, ended


def _answer(leg: CallLeg, at: datetime, by: str, *, talk: float) -> None:
    leg.outcome, leg.answered_at, leg.answered_by = Outcome.ANSWERED, at, by
    leg.ended_at = at + timedelta(seconds=talk)


def _transfer(batch: SyntheticBatch, rng: np.random.Generator, charter: Charter, desk: CallLeg,
              department: str, draw: np.ndarray) -> None:
    assert desk.answered_at is not None
    officer = f"{2000 + DEPARTMENTS.index(department) * 10 + int(draw[5] * 5)}"
    start = desk.answered_at + timedelta(seconds=15.0 + 20.0 * float(draw[5]))
    leg = CallLeg(pbx=desk.pbx, call_id=desk.call_id, leg_id=f"{desk.call_id}-xfer",
                  kind=LegKind.TRANSFER, offered_at=start, caller_number=desk.caller_number,
                  caller_name=desk.caller_name, department=department, officer=officer,
                  source="synthetic")
    batch.legs.append(leg)
    ring = charter.transfer_ring_seconds
    if draw[2] < 0.70:
        busy = draw[3] < 0.5  # the officer is on another call: the caller waits and is told
        wait = float(rng.exponential(15.0)) if busy else float(rng.uniform(1, 9))
        _answer(leg, start + timedelta(seconds=wait), officer, talk=120.0)
        _ring(batch, leg, officer, RingResult.ANSWERED, wait)
        if busy:
            _status_announcements(batch, rng, charter, leg, wait)
    elif draw[2] < 0.88:
        leg.outcome, leg.ended_at = Outcome.RETURNED, start + timedelta(seconds=ring)
        _ring(batch, leg, officer, RingResult.NOT_ANSWERED, ring)
        back = CallLeg(pbx=desk.pbx, call_id=desk.call_id, leg_id=f"{desk.call_id}-back",
                       kind=LegKind.RETURNED, offered_at=leg.ended_at,
                       caller_number=desk.caller_number, caller_name=desk.caller_name,
                       queue=FRONT_DESK_QUEUE, returned_from=officer, source="synthetic")
        batch.legs.append(back)
        if draw[4] < 0.05:
            _miss(back, MissedCause.TRANSFER_UNANSWERED, back.offered_at + timedelta(seconds=25))
            _desk_rings(batch, back, "r2", "r1")
        else:
            _answer(back, back.offered_at + timedelta(seconds=float(rng.uniform(1, 14))), "r2",
                    talk=40.0)
            _desk_rings(batch, back, "r2", "r1")
    else:
        leg.outcome, leg.voicemail = Outcome.VOICEMAIL, True
        leg.ended_at = start + timedelta(seconds=ring + 30.0)
        _callback(batch, charter, leg, draw)


def _status_announcements(batch: SyntheticBatch, rng: np.random.Generator, charter: Charter,
                          leg: CallLeg, wait: float) -> None:
    """A caller waiting on a busy officer hears a status message every ~20 s (8 % late)."""
    heard, previous, position = 0.0, None, 1
    while heard < wait:
        batch.status_announcements.append(StatusAnnouncement(
            pbx=leg.pbx, event_id=f"{leg.leg_id}-status-{position}", call_id=leg.call_id,
            uniqueid=leg.call_id, department=leg.department, officer=leg.officer,
            announced_at=leg.offered_at + timedelta(seconds=heard), position=1,
            waited_seconds=heard, interval_seconds=previous))
        late = rng.random() < 0.08
        previous = 27.9 if late else float(rng.normal(charter.status_interval_seconds, 0.15))
        heard += previous
        position += 1


def _front_desk_status(batch: SyntheticBatch, charter: Charter, desk: CallLeg, waited: float,
                       number: int) -> None:
    """app_queue's messages to a caller waiting at the front desk: every 20 s from joining,
    except that one caller in ten had a receptionist's phone ringing through a due time (22 s,
    as measured). No random draws, so the rest of the quarter is the same as without them."""
    heard, previous, n = charter.status_interval_seconds, None, 1
    while heard < waited:
        batch.status_announcements.append(StatusAnnouncement(
            pbx=desk.pbx, event_id=f"{desk.leg_id}-status-{n}", call_id=desk.call_id,
            uniqueid=desk.call_id, department="", officer="",
            announced_at=desk.offered_at + timedelta(seconds=heard), position=1,
            waited_seconds=heard, interval_seconds=previous, queue=desk.queue))
        previous = 22.0 if number % 10 == 0 and n == 1 else charter.status_interval_seconds
        heard += previous
        n += 1


def _callback(batch: SyntheticBatch, charter: Charter, leg: CallLeg, draw: np.ndarray) -> None:
    assert leg.ended_at is not None
    due = leg.ended_at + timedelta(hours=charter.callback_due_hours)
    callback = Callback(pbx=leg.pbx, callback_id=f"cb-{leg.call_id}", call_id=leg.call_id,
                        officer=leg.officer, department=leg.department,
                        caller_name=leg.caller_name, contacted_at=leg.ended_at,
                        caller_number=leg.caller_number,
                        matter=f"voicemail {leg.officer}/{leg.call_id}", due_at=due)
    if draw[4] < 0.95:  # 95 % done: most within the charter's time, some late
        hours = charter.callback_due_hours * (0.2 + 0.7 * draw[3] if draw[4] < 0.85 else 1.5)
        callback.done_at = leg.ended_at + timedelta(hours=float(hours))
        callback.caller_informed_at = callback.done_at
        callback.action_taken = "Returned the call; matter resolved by phone."
        callback.status = CallbackStatus.CLOSED
    batch.callbacks.append(callback)


def fill_store(store: Store, batches: Iterable[SyntheticBatch]) -> int:
    """Save every batch (one commit per batch); returns the number of legs saved."""
    legs = 0
    for batch in batches:
        with store.batch():
            store.save_legs(batch.legs)
            for callback in batch.callbacks:
                store.save_callback(callback)
            for announcement in batch.status_announcements:
                store.save_status_announcement(announcement)
            store.save_rings(batch.rings)
        legs += len(batch.legs)
    return legs


def main(argv: list[str] | None = None) -> int:
    """`python -m lab.synthetic_quarter --db-url URL --quarter 2026Q3 --calls N`."""
    import argparse

    from monitor.core.charter import load_charter
    from monitor.reports.periods import parse_quarter
    from monitor.store import open_store

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--quarter", default="2026Q3")
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    charter = load_charter()
    period = parse_quarter(args.quarter, charter.timezone)
    with open_store(args.db_url) as store:
        legs = fill_store(store, generate_quarter(period, charter, calls=args.calls,
                                                  seed=args.seed))
    print(f"{args.calls} calls ({legs} legs) of {period.label} -> {args.db_url}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
