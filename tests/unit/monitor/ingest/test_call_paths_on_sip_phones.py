"""The call state machine on AMI traces of 15 call paths with real SIP phones (tests/data/
sip_traces/, recorded on the lab's Asterisk 22 with SIPp), against a hand count per path.

Each expected row is (kind, target, outcome, missed cause, answered within 10 s, answered by);
per-person rings are (person, result) counts. The counts follow docs/architecture.md: one leg
per ringing target, officer waits from the CALLSLA_OFFICER_WAIT marker, customer calls only.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from monitor.ami import AmiMessage, parse_message
from monitor.core.directory import load_directory
from monitor.core.records import CallLeg
from monitor.ingest.call_state import CallTracker

TRACES = Path(__file__).parents[3] / "data" / "sip_traces"
R101, R102 = "Reception 101", "Reception 102"

Row = tuple[str, str, str, str | None, bool | None, str]
FD_ANSWERED: Row = ("front_desk", "frontdesk", "answered", None, True, R101)

HAND_COUNT: dict[str, tuple[list[Row], dict[tuple[str, str], int]]] = {
    "a_ringall_one_answers": (
        [FD_ANSWERED], {(R101, "answered"): 1, (R102, "answered_elsewhere"): 1}),
    "b_rrmemory_ring_no_answer": (  # 101 rang 6 s, 102 answered 12 s after arrival
        [("front_desk", "frontdesk", "answered", None, False, R102)],
        {(R101, "not_answered"): 1, (R102, "answered"): 1}),
    "c_caller_abandons": (
        [("front_desk", "frontdesk", "missed", "abandoned", None, "")],
        {(R101, "not_answered"): 1, (R102, "not_answered"): 1}),
    "d_blind_refer_answered": (  # 7.7 s announcement + 3 s ring
        [FD_ANSWERED, ("transfer", "2101", "answered", None, False, "2101")],
        {(R101, "answered"): 1, ("2101", "answered"): 1}),
    "e_blind_refer_returned": (
        [FD_ANSWERED, ("transfer", "2201", "returned", None, None, ""),
         ("returned", "frontdesk", "answered", None, True, R101)],
        {(R101, "answered"): 2, ("2201", "not_answered"): 1}),
    "f_attended_refer": (  # from the consultation's wait marker to 2101's answer: 9.7 s
        [FD_ANSWERED, ("transfer", "2101", "answered", None, True, "2101")],
        {(R101, "answered"): 1, ("2101", "answered"): 1}),
    "g1_dtmf_blind": (
        [FD_ANSWERED, ("transfer", "2101", "answered", None, False, "2101")],
        {(R101, "answered"): 1, ("2101", "answered"): 1}),
    "g2_dtmf_attended": (  # the Local ;2 running the flow carries the one leg: 9.5 s
        [FD_ANSWERED, ("transfer", "2102", "answered", None, True, "2102")],
        {(R101, "answered"): 1, ("2102", "answered"): 1}),
    "h_busy_officer_abandoned": (  # waited 40.5 s for a busy 2101, never rung, hung up
        [FD_ANSWERED, ("transfer", "2101", "missed", "transfer_unanswered", None, "")],
        {(R101, "answered"): 1}),
    "i_pickup": (  # 2102 picks up 2101's ringing phone
        [("direct", "2101", "answered", None, False, "2102")],
        {("2101", "answered_elsewhere"): 1, ("2102", "answered"): 1}),
    "j_forward": (  # one leg for 2101, answered by 2102 where it was forwarded
        [("direct", "2101", "answered", None, False, "2102")],
        {("2101", "not_answered"): 1, ("2102", "answered"): 1}),
    "k_internal": ([], {}),  # staff to staff: not the charter's
    "l_direct_answered": (
        [("direct", "2101", "answered", None, False, "2101")], {("2101", "answered"): 1}),
    "m_direct_returned": (
        [("direct", "2201", "returned", None, None, ""),
         ("returned", "frontdesk", "answered", None, True, R101)],
        {("2201", "not_answered"): 1, (R101, "answered"): 1}),
    "n_unavailable": ([], {}),  # an unreachable officer: a message, nobody waited for
}


def trace(name: str) -> list[AmiMessage]:
    blocks = (TRACES / f"{name}.txt").read_text().split("\n\n")
    return [parse_message(b.strip().splitlines()) for b in blocks if b.strip()]


def row(leg: CallLeg) -> Row:
    wait = leg.answer_wait_seconds
    return (leg.kind.value, leg.queue or leg.officer, leg.outcome.value,
            leg.missed_cause.value if leg.missed_cause else None,
            None if wait is None else wait <= 10.0, leg.answered_by)


@pytest.mark.parametrize("name", sorted(HAND_COUNT))
def test_each_call_path_counts_as_a_hand_count_says(name: str) -> None:
    tracker = CallTracker("lab")
    tracker.know_officers({o.extension: o.department
                           for o in load_directory(None).officers.values()})
    legs: dict[str, CallLeg] = {}
    rings: Counter[tuple[str, str]] = Counter()
    offered = Counter[str]()
    for event in trace(name):
        for update in tracker.on_event(event):
            legs[update.leg.leg_id] = update.leg
            offered[update.leg.leg_id] += update.offered
            rings.update((r.person, r.result.value) for r in update.rings)
    want_legs, want_rings = HAND_COUNT[name]
    assert sorted(row(leg) for leg in legs.values()) == sorted(want_legs)
    assert all(n == 1 for n in offered.values()), "every leg offered exactly once"
    assert dict(rings) == want_rings
    assert all(leg.ended_at is not None for leg in legs.values()), "every leg ended"
    assert all(leg.caller_number == "0312345678" for leg in legs.values())


def test_the_trace_files_are_the_hand_counted_paths() -> None:
    assert sorted(p.stem for p in TRACES.glob("*.txt")) == sorted(HAND_COUNT)


@pytest.mark.parametrize("name", ["f_attended_refer", "g2_dtmf_attended", "d_blind_refer_answered",
                                  "i_pickup"])
def test_an_officer_outside_the_directory_answers_as_other(name: str) -> None:
    """`answered_by` labels callsla_person_answer_wait_seconds: with no directory, no dialled
    or consulted extension may become a label value (they are typed by people)."""
    tracker = CallTracker("lab")  # no know_officers: every extension is outside the directory
    answered = {update.leg.answered_by for event in trace(name)
                for update in tracker.on_event(event)
                if update.leg.kind.value != "front_desk" and update.leg.answered_by}
    assert answered == {"other"}
