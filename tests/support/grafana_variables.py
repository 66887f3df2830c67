"""Grafana's template variables put into a panel's query the way Grafana would, so a lab test
can run a dashboard's own queries against the real Prometheus."""

from __future__ import annotations

# A dashboard over the lab's one PBX, its range an hour (the lab's Prometheus is fresh).
VARIABLES = {"$pbx": "lab", "$__range": "1h", "$window": "1h", "$__interval": "15s",
             "$__rate_interval": "1m"}


def grafana_expr(expr: str, *, pbx: str = VARIABLES["$pbx"]) -> str:
    """`expr` with every variable replaced; `pbx` as the `pbx` picker is set (a PBX's name, or
    dashboards.panels.PBX_ALL for All). Longest names first: `$__range` before `$__r...`."""
    values = {**VARIABLES, "$pbx": pbx}
    for name in sorted(values, key=len, reverse=True):
        expr = expr.replace(name, values[name])
    return expr
