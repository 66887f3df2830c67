"""Varied call legs with the edge cases of the charter's definitions, for column-wise tests."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from monitor.core.records import CallLeg, LegKind, MissedCause, Outcome

# 2026-03-29 01:00 UTC: Europe/London moves to summer time inside the sample's span
START = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
# around the 10 s standard and a 5 s short-abandon threshold; negative: PBX clock skew
WAITS = (None, None, 0.0, 10.0, 10.000001, 9.999999, 5.0, 4.999999, -0.5, 0.000001)
ZONES = (UTC, ZoneInfo("Asia/Kuala_Lumpur"), ZoneInfo("Europe/London"))
TEXTS = ("", "Siti Aminah", "Tan & <Sons>", " padded ", "Ünïcode 名前")


def varied_legs(count: int, *, seed: int = 6) -> list[CallLeg]:
    """`count` legs over a few hours: every kind, outcome and cause (causes also on legs that
    are not missed), exact thresholds, missing answers and ends, times given in several zones
    and equal offer times."""
    rng = random.Random(seed)
    legs = []
    for n in range(count):
        offered = START + timedelta(microseconds=rng.randrange(0, 4 * 3600 * 10**6))
        if n % 17 == 0 and legs:
            offered = legs[-1].offered_at  # equal offer times
        wait = rng.choice(WAITS) if rng.random() < 0.7 else rng.uniform(0, 60)
        lasted = rng.choice((None, 0.0, 5.0, 4.999999, 5.000001, rng.uniform(0, 300)))
        outcome = rng.choice(list(Outcome))
        cause = rng.choice([None, *MissedCause]) if rng.random() < 0.8 else None
        zone = rng.choice(ZONES)
        legs.append(CallLeg(
            pbx=rng.choice(("pbx1", "pbx2")), call_id=f"call-{n // 3}", leg_id=f"leg-{n:05d}",
            kind=rng.choice(list(LegKind)), offered_at=offered.astimezone(zone),
            caller_number=rng.choice(("", "0123", "60123456789")),
            caller_name=rng.choice(TEXTS), queue=rng.choice(("", "frontdesk", "other")),
            department=rng.choice(("", "Licensing", "Permits")),
            officer=rng.choice(("", "2001")),
            answered_at=None if wait is None else (offered + timedelta(seconds=wait)),
            ended_at=None if lasted is None else (offered + timedelta(seconds=lasted)
                                                  ).astimezone(rng.choice(ZONES)),
            answered_by=rng.choice(("", "r1")), outcome=outcome, missed_cause=cause,
            returned_from=rng.choice(("", "2002")), voicemail=rng.random() < 0.2,
            source=rng.choice(("ami", "mqtt", "synthetic")), uniqueid=f"{n}.1"))
    return legs
