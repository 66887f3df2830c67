"""Every panel query of every dashboard, run against the lab's real Prometheus scraping the real
monitor during front-desk traffic (SIP callers on the trunk, SIP receptionists), returns data of
the shape its panel draws.

The lab's Prometheus loads dashboards/rules/*.yml, so the recording rules the panels read are
evaluated for real. Grafana's variables are substituted the way Grafana would.
"""

from __future__ import annotations

import json
import math
import re
import time
import urllib.request
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from dashboards import DASHBOARD_DIR
from dashboards.build import BUILDERS
from lab import Lab
from lab.sip.phones import sip_phones
from tests.support.grafana_variables import grafana_expr
from tests.support.lab_traffic import answered_and_abandoned_calls, instant, prometheus, wait_for

# Families only the call-flow scripts (agi_scripts/, over MQTT) feed: front-desk calls cannot
# produce them, so their panels are checked for a valid query and, when they do return data,
# for its shape.
CALL_FLOW_SERIES = {
    "callsla_transfers_returned_total", "callsla_voicemails_total", "callsla_callbacks_open",
    "callsla_callbacks_overdue", "callsla_status_announcement_interval_seconds_bucket",
    "callsla_status_announcement_interval_seconds_count",
    "pbx:callsla_status_announcement_on_time:ratio_rate15m",
    "pbx:callsla_status_announcement_on_time:ratio_rate1h",
}
SERIES = re.compile(r"((?:[a-z_]+:)?callsla_[a-z0-9_]+(?::[a-z0-9_]+)?)\{")
GROUPING = re.compile(r"\bby \(([a-z_, ]+)\)")
RANGE_PANELS = {"timeseries", "heatmap"}

TRAFFIC_ANSWERED = 3
TRAFFIC_ABANDONED = 2


@pytest.fixture(scope="module")
async def traffic(lab: Lab, monitor_process: str) -> Lab:
    async with sip_phones(lab) as phones:
        await answered_and_abandoned_calls(phones, answered=TRAFFIC_ANSWERED,
                                           abandoned=TRAFFIC_ABANDONED)
    calls = TRAFFIC_ANSWERED + TRAFFIC_ABANDONED
    wait_for(lab, 'sum(callsla_calls_offered_total{pbx="lab"})', calls)
    wait_for(lab, 'sum(callsla_calls_missed_total{pbx="lab"})', TRAFFIC_ABANDONED)
    # A rate needs two samples after the change, and each rule one evaluation after that.
    wait_for(lab, 'count(pbx:callsla_answered_within_10s:ratio_rate5m{pbx="lab"} >= 0)', 1)
    return lab


def _check_shape(panel: dict[str, Any], expr: str, result: list[dict[str, Any]]) -> None:
    where = f"{panel['title']!r}: {expr}"
    grouping = GROUPING.search(expr)
    labels = [n.strip() for n in grouping.group(1).split(",")] if grouping else []
    for series in result:
        for label in labels:
            assert label in series["metric"], f"{where}: a series lacks {label!r}: {series}"
        points = series["values"] if panel["type"] in RANGE_PANELS else [series["value"]]
        assert points, f"{where}: a series with no points"
        for _t, value in points:
            assert math.isfinite(float(value)), f"{where}: {value} is not a figure"


def _run(lab: Lab, panel: dict[str, Any], expr: str) -> list[dict[str, Any]]:
    if panel["type"] in RANGE_PANELS:
        now = time.time()
        data = prometheus(lab, "/api/v1/query_range", query=expr, start=f"{now - 120:.3f}",
                          end=f"{now:.3f}", step="5")
        assert data["resultType"] == "matrix", expr
        result: list[dict[str, Any]] = data["result"]
        return result
    return instant(lab, expr)


@pytest.mark.parametrize("name", list(BUILDERS))
def test_every_panel_query_returns_data_of_the_expected_shape(traffic: Lab, name: str) -> None:
    board = json.loads((DASHBOARD_DIR / name).read_text("utf-8"))
    checked = 0
    for panel in board["panels"]:
        for target in panel.get("targets", []):
            expr = grafana_expr(target["expr"])
            assert "$" not in expr, f"unsubstituted variable in {expr}"
            result = _run(traffic, panel, expr)
            needs_call_flows = set(SERIES.findall(expr)) <= CALL_FLOW_SERIES
            if not needs_call_flows:
                assert result, f"{panel['title']!r} has no data during traffic: {expr}"
            _check_shape(panel, expr, result)
            checked += 1
    assert checked


def _monitor_series_names(monitor_url: str) -> set[str]:
    """Every sample name the monitor can expose, from the families it declares (a family with
    no series yet still has its HELP and TYPE lines)."""
    with urllib.request.urlopen(f"{monitor_url}/metrics", timeout=5) as response:
        text = response.read().decode()
    suffixes = {"counter": ("_total", "_created"), "gauge": ("",),
                "histogram": ("_bucket", "_count", "_sum", "_created")}
    return {family.name + suffix for family in text_string_to_metric_families(text)
            for suffix in suffixes.get(family.type, ("",))}


@pytest.mark.parametrize("name", list(BUILDERS))
def test_every_panel_query_is_accepted_by_the_real_prometheus(
        lab: Lab, monitor_process: str, name: str) -> None:
    """Each query parses, gives the result type its panel draws, and reads only series that
    exist: the monitor's families or a loaded recording rule (a misspelt name returns no data
    without an error, so "accepted" alone would pass it)."""
    known = _monitor_series_names(monitor_process) | {
        rule["name"] for group in prometheus(lab, "/api/v1/rules")["groups"]
        for rule in group["rules"] if rule["type"] == "recording"}
    board = json.loads((DASHBOARD_DIR / name).read_text("utf-8"))
    checked, unknown = 0, []
    for panel in board["panels"]:
        for target in panel.get("targets", []):
            expr = grafana_expr(target["expr"])
            if panel["type"] in RANGE_PANELS:
                _run(lab, panel, expr)  # asserts a matrix; raises on a PromQL error
            else:
                data = prometheus(lab, "/api/v1/query", query=expr)
                assert data["resultType"] in ("vector", "scalar"), f"{panel['title']!r}: {expr}"
            read = SERIES.findall(expr)
            assert read, f"{panel['title']!r} reads no callsla series: {expr}"
            unknown += [(panel["title"], series) for series in read if series not in known]
            checked += 1
    assert checked, f"{name} has no panel queries"
    assert unknown == [], f"panels read series nothing produces: {unknown}"


def test_prometheus_loaded_every_rule(lab: Lab) -> None:
    groups = prometheus(lab, "/api/v1/rules")["groups"]
    names = {rule["name"] for group in groups for rule in group["rules"]}
    assert "pbx:callsla_answered_within_10s:ratio_rate15m" in names
    assert "CallslaAnswerRateBelowTarget" in names
    assert all(rule["health"] != "err" for group in groups for rule in group["rules"])
