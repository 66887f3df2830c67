"""Supervisor trends: the wallboard's figures by hour, day or week, per queue and department."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.models import dashboard as model

from dashboards.panels import PBX, figures_table, ratio, trend, variables, wait_heatmap

UID = "callsla-trends"


def per_window(expr: str, by: str) -> str:
    return f"sum by ({by}) (increase({expr}[$window]))"


def per_person() -> list[tuple[str, str]]:
    """Rung, answered, answered within 10 s and not answered, per receptionist and officer,
    over the dashboard's range (a person with no unanswered ring shows 0, not a gap)."""
    rings = f"callsla_person_rings_total{{{PBX}}}"
    waits = "callsla_person_answer_wait_seconds"
    any_ring = f"0 * sum by (person) (increase({rings}[$__range]))"
    missed = (f'sum by (person) (increase(callsla_person_rings_total{{result="not_answered",'
              f"{PBX}}}[$__range]))")
    return [
        ("Dering / Rung", f"sum by (person) (increase({rings}[$__range]))"),
        ("Dijawab / Answered", f"sum by (person) (increase({waits}_count{{{PBX}}}[$__range]))"),
        ("≤ 10 s", f'sum by (person) (increase({waits}_bucket{{le="10.0",{PBX}}}[$__range]))'),
        ("Tidak dijawab / Not answered", f"{missed} or on (person) {any_ring}"),
    ]


def window_variable() -> dashboard.CustomVariable:
    """Hour, day or week: the span each point of the trend covers."""
    return (dashboard.CustomVariable("window").label("Per").values("1h,1d,1w")
            .current(model.VariableOption(selected=True, text="1h", value="1h")))


def build() -> dashboard.Dashboard:
    within = f'callsla_answer_wait_seconds_bucket{{le="10.0",{PBX}}}'
    offered = f"callsla_calls_offered_total{{{PBX}}}"
    return (
        dashboard.Dashboard("callsla — Trend penyelia / Supervisor trends").uid(UID)
        .description("The charter's figures over time: per hour, day or week ($window).")
        .tags(["callsla", "charter", "trends"]).time("now-7d", "now").refresh("1m")
        .timezone("browser").readonly().variables([*variables(), window_variable()])
        .with_panel(trend(
            "Dijawab ≤ 10 s / Answered within 10 s", [
                ("{{pbx}} per $window",
                 ratio(per_window(within, "pbx"), per_window(offered, "pbx"))),
                ("{{pbx}} 15 min", f"pbx:callsla_answered_within_10s:ratio_rate15m{{{PBX}}}"),
                ("{{pbx}} 1 day", f"pbx:callsla_answered_within_10s:ratio_rate1d{{{PBX}}}")],
            unit="percentunit", width=12, height=9))
        .with_panel(trend(
            "Panggilan masuk dan dijawab / Offered and answered per $window", [
                ("offered {{pbx}}", per_window(offered, "pbx")),
                ("answered {{pbx}}", per_window(f"callsla_calls_answered_total{{{PBX}}}", "pbx")),
                ("≤ 10 s {{pbx}}", per_window(within, "pbx"))],
            unit="none", width=12, height=9))
        .with_panel(trend(
            "Dijawab ≤ 10 s mengikut baris gilir / by queue", [
                ("{{pbx}} {{queue}}",
                 f"pbx_queue:callsla_answered_within_10s:ratio_rate15m{{{PBX}}}")],
            unit="percentunit", width=12, height=9))
        .with_panel(trend(
            "Dijawab ≤ 10 s mengikut bahagian / by department", [
                ("{{pbx}} {{department}}",
                 f"pbx_department:callsla_answered_within_10s:ratio_rate15m{{{PBX}}}")],
            unit="percentunit", width=12, height=9))
        .with_panel(trend(
            "Panggilan terlepas / Missed calls per $window by cause", [
                ("{{cause}}", per_window(f"callsla_calls_missed_total{{{PBX}}}", "cause"))],
            unit="none", width=12, height=9))
        .with_panel(trend(
            "Mesej status tepat masa / Status messages on time", [
                ("{{pbx}} 1 h", f"pbx:callsla_status_announcement_on_time:ratio_rate1h{{{PBX}}}")],
            unit="percentunit", width=12, height=9))
        .with_panel(wait_heatmap(
            "Taburan masa menunggu / Answer wait distribution",
            f"sum by (le) (increase(callsla_answer_wait_seconds_bucket{{{PBX}}}[$__interval]))",
            width=12, height=9))
        .with_panel(trend(
            "Menunggu / Waiting", [
                ("callers waiting {{pbx}}", f"sum by (pbx) (callsla_callers_waiting{{{PBX}}})"),
                ("longest wait (s) {{pbx}}",
                 f"max by (pbx) (callsla_longest_wait_seconds{{{PBX}}})")],
            unit="none", width=12, height=9))
        .with_panel(figures_table(
            "Setiap petugas / Per receptionist and officer", per_person(), width=24, height=9))
    )
