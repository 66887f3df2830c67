"""The supervisors' wallboard: a TV across the room, today's charter figures at a glance."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard

from dashboards.panels import (
    ANSWER_AMBER,
    ANSWER_TARGET,
    PBX,
    STATUS_AMBER,
    STATUS_TARGET,
    WAIT_AMBER_SECONDS,
    WAIT_RED_SECONDS,
    bars,
    big_stat,
    figures_table,
    per_department,
    ratio,
    ratio_rag,
    steps,
    variables,
)

UID = "callsla-wallboard"


def today(expr: str, by: str) -> str:
    """Increase since the start of the dashboard's range (the wallboard's range is today)."""
    return f"sum by ({by}) (increase({expr}[$__range]))"


def count_today(family: str, by: str) -> str:
    return f"round({today(f'{family}{{{PBX}}}', by)})"


def answer_rate_today(by: str) -> str:
    within = today(f'callsla_answer_wait_seconds_bucket{{le="10.0",{PBX}}}', by)
    offered = today(f"callsla_calls_offered_total{{{PBX}}}", by)
    return ratio(within, offered)


def status_on_time_today(by: str) -> str:
    """Share of status-message intervals within 20 s (+1 s): queue callers' messages carry
    department "", so they are the front desk's row, as their legs are."""
    status = "callsla_status_announcement_interval_seconds"
    return ratio(today(f'{status}_bucket{{le="21.0",{PBX}}}', by),
                 today(f"{status}_count{{{PBX}}}", by))


def build() -> dashboard.Dashboard:
    count_rag = steps((None, "green"), (1, "red"))
    board = (
        dashboard.Dashboard("callsla — Papan dinding / Wallboard").uid(UID)
        .description("Piagam Pelanggan: today's telephone figures for the front desk and "
                     "departments. Meant for a TV: large figures, red/amber/green.")
        .tags(["callsla", "charter", "wallboard"]).time("now/d", "now").refresh("10s")
        .timezone("browser").readonly().variables(variables())
    )
    board = (
        board
        .with_panel(big_stat(
            "Dijawab ≤ 10 s · 15 minit / Answered ≤ 10 s · last 15 min",
            f"pbx:callsla_answered_within_10s:ratio_rate15m{{{PBX}}}", unit="percentunit",
            thresholds=ratio_rag(ANSWER_AMBER, ANSWER_TARGET), width=6, height=9,
            description="Answered within 10 s ÷ offered over the last 15 minutes "
                        "(charter T-a, target 90 %)."))
        .with_panel(big_stat(
            "Dijawab ≤ 10 s · hari ini / Answered ≤ 10 s · today", answer_rate_today("pbx"),
            unit="percentunit", thresholds=ratio_rag(ANSWER_AMBER, ANSWER_TARGET), width=6,
            height=9, description="Answered within 10 s ÷ offered since midnight."))
        .with_panel(big_stat(
            "Pemanggil menunggu / Callers waiting",
            f"sum by (pbx) (callsla_callers_waiting{{{PBX}}})", unit="none",
            thresholds=steps((None, "green"), (3, "orange"), (6, "red")), width=6, height=9))
        .with_panel(big_stat(
            "Menunggu paling lama / Longest wait",
            f"max by (pbx) (callsla_longest_wait_seconds{{{PBX}}})", unit="s",
            thresholds=steps((None, "green"), (WAIT_AMBER_SECONDS, "orange"),
                             (WAIT_RED_SECONDS, "red")), width=6, height=9))
        .with_panel(bars(
            "Panggilan terlepas hari ini / Missed calls today",
            count_today("callsla_calls_missed_total", "cause"),
            legend="{{cause}}", thresholds=count_rag, width=8, height=8))
        .with_panel(big_stat(
            "Pindahan dikembalikan hari ini / Returned transfers today",
            count_today("callsla_transfers_returned_total", "pbx"),
            unit="none", thresholds=steps((None, "blue")), width=4, height=8))
        .with_panel(big_stat(
            "Panggilan balik belum selesai / Callbacks open",
            f"sum by (pbx) (callsla_callbacks_open{{{PBX}}})", unit="none",
            thresholds=steps((None, "blue")), width=4, height=8))
        .with_panel(big_stat(
            "Panggilan balik lewat / Callbacks overdue",
            f"sum by (pbx) (callsla_callbacks_overdue{{{PBX}}})", unit="none",
            thresholds=count_rag, width=4, height=8))
        .with_panel(big_stat(
            "Mesej status ≤ 20 s / Status messages on time",
            f"pbx:callsla_status_announcement_on_time:ratio_rate15m{{{PBX}}}",
            unit="percentunit", thresholds=ratio_rag(STATUS_AMBER, STATUS_TARGET), width=4,
            height=8, description="Share of status-message intervals within 20 s (1 s "
                                  "tolerance) over the last 15 minutes (charter T-f)."))
        .with_panel(figures_table(
            "Mengikut bahagian, hari ini / By department, today",
            [("Panggilan masuk / Offered",
              per_department(count_today("callsla_calls_offered_total", "department"))),
             ("≤ 10 s", per_department(answer_rate_today("department"))),
             ("Terlepas / Missed",
              per_department(count_today("callsla_calls_missed_total", "department"))),
             ("Dikembalikan / Returned",
              per_department(count_today("callsla_transfers_returned_total", "department"))),
             ("Panggilan balik lewat / Callbacks overdue",
              per_department(f"sum by (department) (callsla_callbacks_overdue{{{PBX}}})")),
             ("Mesej status ≤ 20 s / Status on time",
              per_department(status_on_time_today("department")))],
            width=24, height=9,
            percent_columns=("≤ 10 s", "Mesej status ≤ 20 s / Status on time")))
    )
    return board
