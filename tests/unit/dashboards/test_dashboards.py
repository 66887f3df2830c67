"""The committed dashboards: built from code, valid in shape, asking only for contract series."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from dashboards import DASHBOARD_DIR, PROVISIONING_DIR, RULE_FILES
from dashboards.build import BUILDERS, render_all
from monitor.core.metrics import create_call_metrics

GRID_WIDTH = 24
SERIES_SUFFIXES = ("_total", "_bucket", "_sum", "_count")
SELECTOR = re.compile(r"((?:[a-z_]+:)?callsla_[a-z0-9_]+(?::[a-z0-9_]+)?)\{([^}]*)\}")


def _dashboards() -> dict[str, dict[str, Any]]:
    return {name: json.loads((DASHBOARD_DIR / name).read_text("utf-8")) for name in BUILDERS}


def _targets(board: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(panel, target) for panel in board["panels"] for target in panel.get("targets", [])]


def _contract_series() -> set[str]:
    names = set()
    for family in create_call_metrics(CollectorRegistry()).registry.collect():
        names.add(family.name)
        names.update(family.name + suffix for suffix in SERIES_SUFFIXES)
    return names


def _recorded() -> set[str]:
    return {rule["record"] for path in RULE_FILES
            for group in yaml.safe_load(path.read_text())["groups"] for rule in group["rules"]
            if "record" in rule}


def test_committed_json_is_what_the_code_builds() -> None:
    for name, text in render_all().items():
        committed = (DASHBOARD_DIR / name).read_text("utf-8")
        assert committed == text, f"{name} is stale: run `python -m dashboards.build`"


@pytest.mark.parametrize("name", list(BUILDERS))
def test_dashboard_has_a_uid_a_title_and_a_pbx_filter(name: str) -> None:
    board = _dashboards()[name]
    assert board["uid"].startswith("callsla-")
    assert board["title"]
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    pbx = variables["pbx"]
    assert pbx["multi"] is True
    assert pbx["includeAll"] is True
    assert "label_values(" in pbx["query"]


@pytest.mark.parametrize("name", list(BUILDERS))
def test_panels_fit_the_grid_without_overlapping(name: str) -> None:
    taken: set[tuple[int, int]] = set()
    ids = set()
    for panel in _dashboards()[name]["panels"]:
        ids.add(panel["id"])
        pos = panel["gridPos"]
        assert pos["x"] >= 0, panel["title"]
        assert pos["x"] + pos["w"] <= GRID_WIDTH, panel["title"]
        cells = {(x, y) for x in range(pos["x"], pos["x"] + pos["w"])
                 for y in range(pos["y"], pos["y"] + pos["h"])}
        assert not cells & taken, f"{panel['title']} overlaps another panel"
        taken |= cells
    assert len(ids) == len(_dashboards()[name]["panels"]), "panel ids must be unique"


@pytest.mark.parametrize("name", list(BUILDERS))
def test_every_query_filters_by_pbx_and_uses_only_contract_series(name: str) -> None:
    known = _contract_series() | _recorded()
    for panel, target in _targets(_dashboards()[name]):
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        expr = target["expr"]
        selectors = SELECTOR.findall(expr)
        assert selectors, f"{panel['title']}: no callsla selector in {expr}"
        for series, matchers in selectors:
            assert series in known, f"{panel['title']}: {series} is not a contract series"
            assert 'pbx=~"$pbx"' in matchers, f"{panel['title']}: {series} ignores $pbx"
        assert 'le="10"' not in expr, "prometheus_client writes the bound as le=\"10.0\""


@pytest.mark.parametrize("name", list(BUILDERS))
def test_targets_have_unique_ref_ids_per_panel(name: str) -> None:
    for panel in _dashboards()[name]["panels"]:
        refs = [t["refId"] for t in panel.get("targets", [])]
        assert len(refs) == len(set(refs)), panel["title"]
        assert all(refs), panel["title"]


def test_provisioning_files_point_grafana_at_prometheus_and_the_dashboards() -> None:
    source = yaml.safe_load((PROVISIONING_DIR / "datasources" / "callsla.yml").read_text())
    assert source["apiVersion"] == 1
    assert source["datasources"][0]["type"] == "prometheus"
    provider = yaml.safe_load((PROVISIONING_DIR / "dashboards" / "callsla.yml").read_text())
    assert provider["providers"][0]["type"] == "file"
    assert provider["providers"][0]["options"]["path"]
