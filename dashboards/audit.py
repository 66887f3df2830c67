"""Audit overview: quarter-to-date figures, defined as in the quarterly charter report."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard, text
from grafana_foundation_sdk.models import text as text_model

from dashboards.panels import (
    ANSWER_AMBER,
    ANSWER_TARGET,
    PBX,
    figures_table,
    per_queue_and_department,
    ratio,
    ratio_rag,
    steps,
    variables,
)
from dashboards.panels import big_stat as stat

UID = "callsla-audit"
STATUS = "callsla_status_announcement_interval_seconds"
# A status message's line: a queue (the front desk, department "") or a department (queue "").
BY_LINE = "pbx, queue, department"
NOTE = """**Suku tahun semasa / Quarter to date.** Definitions as in the quarterly charter report
(`callsla report`): the 10-second answer rate is answered within 10 s ÷ offered, with
abandoned, timed-out and returned legs in the denominator. These figures are Prometheus's
estimates from counters (`increase()`); the report, computed from the call records, is the
record of account, and states the charter version in force."""


def qtd(expr: str, by: str = "pbx") -> str:
    return f"sum by ({by}) (increase({expr}[$__range]))"


def build() -> dashboard.Dashboard:
    offered = f"callsla_calls_offered_total{{{PBX}}}"
    within = f'callsla_answer_wait_seconds_bucket{{le="10.0",{PBX}}}'
    plain = steps((None, "blue"))
    return (
        dashboard.Dashboard("callsla — Audit suku tahun / Quarterly audit").uid(UID)
        .description("Quarter-to-date charter figures for auditors and management.")
        .tags(["callsla", "charter", "audit"]).time("now/fQ", "now").refresh("5m")
        .timezone("browser").readonly().variables(variables())
        .with_panel(text.Panel().title("").mode(text_model.TextMode.MARKDOWN).content(NOTE)
                    .span(24).height(4))
        .with_panel(stat("Panggilan masuk / Offered", f"round({qtd(offered)})", unit="none",
                         thresholds=plain, width=6, height=6))
        .with_panel(stat("Dijawab / Answered",
                         f"round({qtd(f'callsla_calls_answered_total{{{PBX}}}')})",
                         unit="none", thresholds=plain, width=6, height=6))
        .with_panel(stat("Dijawab ≤ 10 s / Answered within 10 s",
                         ratio(qtd(within), qtd(offered)), unit="percentunit",
                         thresholds=ratio_rag(ANSWER_AMBER, ANSWER_TARGET), width=6, height=6))
        .with_panel(stat("Purata masa menunggu / Mean answer wait",
                         ratio(qtd(f"callsla_answer_wait_seconds_sum{{{PBX}}}"),
                               qtd(f"callsla_answer_wait_seconds_count{{{PBX}}}")),
                         unit="s", thresholds=steps((None, "green"), (10, "orange")),
                         width=6, height=6))
        .with_panel(figures_table(
            "Panggilan terlepas mengikut sebab / Missed calls by cause",
            [("Terlepas / Missed",
              f"round({qtd(f'callsla_calls_missed_total{{{PBX}}}', 'cause')})")],
            width=8, height=8))
        .with_panel(stat("Pindahan dikembalikan / Returned transfers",
                         f"round({qtd(f'callsla_transfers_returned_total{{{PBX}}}')})",
                         unit="none", thresholds=plain, width=4, height=8))
        .with_panel(stat("Pesanan / Messages left",
                         f"round({qtd(f'callsla_voicemails_total{{{PBX}}}')})",
                         unit="none", thresholds=plain, width=4, height=8))
        .with_panel(stat("Mesej status ≤ 20 s / Status messages on time",
                         ratio(qtd(f'{STATUS}_bucket{{le="21.0",{PBX}}}'),
                               qtd(f"{STATUS}_count{{{PBX}}}")),
                         unit="percentunit", thresholds=ratio_rag(0.95, 1.0), width=4,
                         height=8))
        .with_panel(stat("Panggilan balik lewat / Callbacks overdue now",
                         f"sum by (pbx) (callsla_callbacks_overdue{{{PBX}}})", unit="none",
                         thresholds=steps((None, "green"), (1, "red")), width=4, height=8))
        .with_panel(figures_table(
            "Mesej status mengikut giliran dan bahagian / Status messages by queue and "
            "department",
            [("Selang / Intervals", per_queue_and_department(
                f"round({qtd(f'{STATUS}_count{{{PBX}}}', BY_LINE)})")),
             ("≤ 20 s", per_queue_and_department(ratio(
                 qtd(f'{STATUS}_bucket{{le="21.0",{PBX}}}', BY_LINE),
                 qtd(f"{STATUS}_count{{{PBX}}}", BY_LINE))))],
            width=24, height=7, percent_columns=("≤ 20 s",)))
    )
