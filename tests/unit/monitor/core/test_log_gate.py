"""The log gate: one line per key a minute, the count of those held back, reset on recovery."""

from __future__ import annotations

from monitor.core.log_gate import LogGate


class FakeClock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def test_one_line_a_minute_with_the_count_held_back() -> None:
    clock = FakeClock()
    gate = LogGate(clock=clock)
    assert gate.passes("store") == 0
    for _ in range(59):
        clock.now += 1.0
        assert gate.passes("store") is None
    assert gate.passes("other") == 0  # keys are apart
    clock.now += 1.0
    assert gate.passes("store") == 59


def test_a_reset_logs_the_next_occurrence_at_once() -> None:
    clock = FakeClock()
    gate = LogGate(clock=clock)
    assert gate.passes("store") == 0
    assert gate.passes("store") is None
    gate.reset("store")
    assert gate.passes("store") == 0
    clock.now += 61
    assert gate.passes("store") == 0
