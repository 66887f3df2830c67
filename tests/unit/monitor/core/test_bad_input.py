"""Bad input is counted every time and logged once per source and kind a minute."""

from __future__ import annotations

import logging

import pytest
from prometheus_client import CollectorRegistry

from monitor.core.bad_input import MAX_KINDS_PER_SOURCE, BadInputLog, kind_of
from monitor.core.metrics import create_call_metrics


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def bad(registry: CollectorRegistry, clock: FakeClock) -> BadInputLog:
    counter = create_call_metrics(registry).bad_input
    return BadInputLog(counter=counter, pbx="p", logger=logging.getLogger("test.bad"),
                       clock=clock)


def count(registry: CollectorRegistry, source: str, kind: str) -> float:
    return registry.get_sample_value("callsla_monitor_bad_input_total",
                                     {"pbx": "p", "source": source, "kind": kind}) or 0


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "test.bad"]


def test_each_kind_is_logged_once_a_minute_and_every_case_counted(
        bad: BadInputLog, registry: CollectorRegistry, clock: FakeClock,
        caplog: pytest.LogCaptureFixture) -> None:
    for n in range(1000):
        bad.report("mqtt", "timestamp", f"case {n}")
        clock.now += 0.01  # 1000 cases in 10 s
    bad.report("mqtt", "type", "other kind")
    bad.report("ami", "timestamp", "other source")
    assert count(registry, "mqtt", "timestamp") == 1000
    assert lines(caplog) == ["bad mqtt input (timestamp): case 0",
                             "bad mqtt input (type): other kind",
                             "bad ami input (timestamp): other source"]
    clock.now = 1060.0  # 60 s after the first line
    bad.report("mqtt", "timestamp", "a minute later")
    assert lines(caplog)[-1] == ("bad mqtt input (timestamp): a minute later "
                                 "(and 999 more of this kind not logged)")
    clock.now += 59.9
    bad.report("mqtt", "timestamp", "too soon")
    assert len(lines(caplog)) == 4


def test_a_batch_is_counted_whole(bad: BadInputLog, registry: CollectorRegistry,
                                  caplog: pytest.LogCaptureFixture) -> None:
    bad.report("queue_log", "line", "7 lines skipped", count=7)
    bad.report("queue_log", "line", "none", count=0)
    assert count(registry, "queue_log", "line") == 7
    assert lines(caplog) == ["bad queue_log input (line): 7 lines skipped "
                             "(and 6 more of this kind not logged)"]


def test_the_kind_label_stays_bounded(bad: BadInputLog, registry: CollectorRegistry) -> None:
    for n in range(MAX_KINDS_PER_SOURCE + 10):
        bad.report("mqtt", f"kind{n}", "x")
    kinds = {s.labels["kind"] for f in registry.collect() for s in f.samples
             if s.name == "callsla_monitor_bad_input_total"}
    assert len(kinds) == MAX_KINDS_PER_SOURCE + 1
    assert count(registry, "mqtt", "other") == 10


def test_the_logged_detail_is_escaped_and_cut(bad: BadInputLog,
                                              caplog: pytest.LogCaptureFixture) -> None:
    bad.report("ami", "x", "\x1b[2J" + "y" * 1000)
    (line,) = lines(caplog)
    assert "\x1b" not in line
    assert "\\x1b[2J" in line
    assert line.endswith("...")
    assert len(line) < 350


@pytest.mark.parametrize(("error", "kind"), [
    (ValueError("timestamp: 'x' is not an ISO 8601 time"), "timestamp"),
    ("QueueCallerJoin: no Timestamp", "queuecallerjoin"),
    ("not JSON: Expecting value", "not_json"),
    ("", "other"),
    (": nothing before", "other"),
])
def test_kind_of_takes_the_text_before_the_colon(error: Exception | str, kind: str) -> None:
    assert kind_of(error) == kind

