"""The `callsla_*` metric families of docs/architecture.md, on a registry the monitor owns."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

ANSWER_WAIT_BUCKETS = (1.0, 2.0, 5.0, 8.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0,
                       180.0, 300.0)
STATUS_INTERVAL_BUCKETS = (5.0, 10.0, 15.0, 19.0, 19.5, 20.0, 20.5, 21.0, 25.0, 30.0, 40.0, 60.0)
# Announcements are scheduled at start + n x 20 s: an interval within one second of the
# standard counts as on time, i.e. the 21 s bucket for a 20 s standard (as the dashboards,
# the recording rules, the wallboard and the reports all read it).
STATUS_TOLERANCE_SECONDS = 1.0


@dataclass(frozen=True)
class CallMetrics:
    """Every family the contract names; ratios are left to PromQL, never divided here."""

    registry: CollectorRegistry
    calls_offered: Counter
    calls_answered: Counter
    answer_wait: Histogram
    calls_missed: Counter
    transfers_returned: Counter
    voicemails: Counter
    callers_waiting: Gauge
    longest_wait: Gauge
    status_interval: Histogram
    callbacks_open: Gauge
    callbacks_overdue: Gauge
    person_rings: Counter
    person_answer_wait: Histogram
    events_received: Counter
    events_rejected: Counter
    bad_input: Counter
    source_connected: Gauge
    backfill_runs: Counter
    backfill_legs: Counter


def create_call_metrics(registry: CollectorRegistry) -> CallMetrics:
    leg = ["pbx", "queue", "department"]
    return CallMetrics(
        registry=registry,
        calls_offered=Counter("callsla_calls_offered", "Offered calls and ringing legs.", leg,
                              registry=registry),
        calls_answered=Counter("callsla_calls_answered", "Calls and legs answered by a person.",
                               leg, registry=registry),
        answer_wait=Histogram("callsla_answer_wait_seconds",
                              "Answer wait of answered calls and legs.", leg,
                              buckets=ANSWER_WAIT_BUCKETS, registry=registry),
        calls_missed=Counter("callsla_calls_missed", "Offered and never answered, by cause.",
                             [*leg, "cause"], registry=registry),
        transfers_returned=Counter("callsla_transfers_returned",
                                   "Unanswered transfers returned to the front desk.", leg,
                                   registry=registry),
        voicemails=Counter("callsla_voicemails", "Messages left for officers.", leg,
                           registry=registry),
        callers_waiting=Gauge("callsla_callers_waiting", "Callers waiting now.", leg,
                              registry=registry),
        longest_wait=Gauge("callsla_longest_wait_seconds", "Longest current wait.", leg,
                           registry=registry),
        # Labelled as the legs are: a queue's callers (the front desk) by queue, an officer's
        # by department, the other label "".
        status_interval=Histogram("callsla_status_announcement_interval_seconds",
                                  "Time between consecutive status messages heard by a caller.",
                                  leg, buckets=STATUS_INTERVAL_BUCKETS, registry=registry),
        callbacks_open=Gauge("callsla_callbacks_open", "Callbacks not yet done.",
                             ["pbx", "department"], registry=registry),
        callbacks_overdue=Gauge("callsla_callbacks_overdue", "Open callbacks past their due time.",
                                ["pbx", "department"], registry=registry),
        person_rings=Counter("callsla_person_rings",
                             "Phones of a receptionist or officer rung for a customer leg, by "
                             "result (answered, not_answered, answered_elsewhere).",
                             ["pbx", "person", "result"], registry=registry),
        person_answer_wait=Histogram("callsla_person_answer_wait_seconds",
                                     "Answer wait of the legs each person answered.",
                                     ["pbx", "person"], buckets=ANSWER_WAIT_BUCKETS,
                                     registry=registry),
        events_received=Counter("callsla_monitor_events", "Events read, by source.",
                                ["pbx", "source"], registry=registry),
        events_rejected=Counter("callsla_monitor_events_rejected",
                                "Events skipped as malformed or unknown, by source.",
                                ["pbx", "source"], registry=registry),
        # kind: the field or event at fault, from our parsers' own texts (monitor/core/bad_input.py)
        bad_input=Counter("callsla_monitor_bad_input",
                          "Inputs refused as malformed, by source and kind.",
                          ["pbx", "source", "kind"], registry=registry),
        source_connected=Gauge("callsla_monitor_source_connected",
                               "1 while the monitor is connected to the source.",
                               ["pbx", "source"], registry=registry),
        backfill_runs=Counter("callsla_monitor_backfill_runs", "Backfill runs, by source.",
                              ["pbx", "source"], registry=registry),
        backfill_legs=Counter("callsla_monitor_backfill_legs",
                              "Leg transitions recovered by backfill (counted once), by source.",
                              ["pbx", "source"], registry=registry),
    )
