"""The fast scan of /metrics reads the same counters as the exposition writes them."""

from prometheus_client import CollectorRegistry, Counter, generate_latest

from bench.metrics_page import queue_counters


def test_the_queues_counters_are_summed_over_their_other_labels() -> None:
    registry = CollectorRegistry()
    offered = Counter("callsla_calls_offered", "offered", ["pbx", "queue", "department"],
                      registry=registry)
    answered = Counter("callsla_calls_answered", "answered", ["pbx", "queue", "department"],
                       registry=registry)
    offered.labels("a", "frontdesk", "").inc(3)
    offered.labels("b", "frontdesk", "").inc(2)
    offered.labels("a", "", "finance").inc(7)  # an officer's leg: not the queue's
    answered.labels("a", "frontdesk", "").inc(4)
    text = generate_latest(registry).decode()
    assert queue_counters(text, ("callsla_calls_offered_total", "callsla_calls_answered_total"),
                          "frontdesk") == (5.0, 4.0)
    assert "callsla_calls_offered_created" in text  # the _created samples are not counted
