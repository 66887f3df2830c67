"""The report's per-person table: each receptionist's and officer's rings, from the store.

One row per person and the queue (receptionists) or department (officers) whose legs rang
them, over the legs offered in the period: answered, rung and not answered, answered
elsewhere (another phone of the same leg answered first), answered within the charter's
standard and its share of the answered. The same rings /metrics counts in
`callsla_person_rings_total` (person: a queue member's name or a directory extension, `other`
for anything else; never a caller's number), and the same answer wait as
`callsla_person_answer_wait_seconds`: the leg's, so "within 10 s" agrees with the `le="10.0"`
bucket.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import pandas as pd

from monitor.core.records import RingResult
from monitor.store import PersonRingTally

PERSON_COLUMNS = ("group_kind", "group", "person", "rung", "person_answered",
                  "person_not_answered", "person_answered_elsewhere", "person_within",
                  "person_within_rate")
QUEUE, DEPARTMENT = "queue", "department"


def person_frame(tallies: Iterable[PersonRingTally]) -> pd.DataFrame:
    """Rows sorted by queues first, then departments, then person; zeros where none."""
    rings: Counter[tuple[str, str, str, RingResult]] = Counter()
    within: Counter[tuple[str, str, str]] = Counter()
    for t in tallies:
        key = (QUEUE, t.queue, t.person) if t.queue else (DEPARTMENT, t.department, t.person)
        rings[(*key, t.result)] += t.count
        within[key] += t.answered_within
    people = sorted({key[:3] for key in rings}, key=lambda k: (k[0] != QUEUE, k[1], k[2]))
    rows = []
    for kind, group, person in people:
        answered, missed, elsewhere = (rings[(kind, group, person, r)] for r in (
            RingResult.ANSWERED, RingResult.NOT_ANSWERED, RingResult.ANSWERED_ELSEWHERE))
        kept = within[(kind, group, person)]
        rows.append((kind, group, person, answered + missed + elsewhere, answered, missed,
                     elsewhere, kept, kept / answered if answered else float("nan")))
    return pd.DataFrame(rows, columns=list(PERSON_COLUMNS))
