"""Arrival order, one caller at a time, and no state left behind by callers who leave."""

from __future__ import annotations

from agi_scripts.officer_line import OfficerLines


def test_callers_are_served_in_arrival_order() -> None:
    line = OfficerLines()["2101"]
    assert [line.join(c) for c in ("a", "b", "c")] == [1, 2, 3]
    assert not line.may_take("b", "NOT_INUSE")
    assert not line.may_take("a", "INUSE")
    assert line.may_take("a", "NOT_INUSE")
    line.take("a")
    assert line.position("b") == 1
    assert not line.may_take("b", "NOT_INUSE"), "engaged by a until a's call ends"
    line.leave("a")
    assert line.may_take("b", "not_inuse")


def test_leaving_keeps_the_others_in_order() -> None:
    lines = OfficerLines()
    line = lines["2101"]
    for caller in ("a", "b", "c"):
        line.join(caller)
    line.leave("b")
    assert (line.position("a"), line.position("c"), line.position("b")) == (1, 2, 0)
    line.leave("a")
    line.leave("c")
    assert lines.waiting_total() == 0
    assert line.engaged_by is None
