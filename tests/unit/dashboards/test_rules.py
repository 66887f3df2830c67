"""The Prometheus rules: promtool accepts them, their unit tests pass, and every rule is tested."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from dashboards import RULE_FILES, RULE_TEST_FILES


def _promtool() -> str:
    path = shutil.which("promtool")
    assert path, "promtool missing: `make setup` installs Debian's prometheus package"
    return path


def _load(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(path.read_text())
    return doc


def _rules(kind: str) -> list[dict[str, Any]]:
    return [rule for path in RULE_FILES for group in _load(path)["groups"]
            for rule in group["rules"] if kind in rule]


def _tests() -> list[dict[str, Any]]:
    return [test for path in RULE_TEST_FILES for test in _load(path)["tests"]]


def test_promtool_check_rules_accepts_every_file() -> None:
    result = subprocess.run([_promtool(), "check", "rules", *map(str, RULE_FILES)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_test_rules_passes() -> None:
    result = subprocess.run([_promtool(), "test", "rules", *map(str, RULE_TEST_FILES)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(RULE_TEST_FILES), result.stdout


def test_every_alert_has_a_test_that_fires_it_and_one_that_does_not() -> None:
    fired: set[str] = set()
    quiet: set[str] = set()
    for test in _tests():
        for case in test.get("alert_rule_test", []):
            (fired if case.get("exp_alerts") else quiet).add(case["alertname"])
    alerts = {rule["alert"] for rule in _rules("alert")}
    assert alerts, "no alert rules found"
    assert alerts - fired == set(), "alerts never shown firing"
    assert alerts - quiet == set(), "alerts never shown quiet"


def test_every_recording_rule_has_an_expression_test() -> None:
    tested = {case["expr"].split()[0].split("{")[0]
              for test in _tests() for case in test.get("promql_expr_test", [])}
    assert {rule["record"] for rule in _rules("record")} - tested == set()


def test_recording_rule_names_follow_level_metric_operations() -> None:
    for rule in _rules("record"):
        level, metric, operations = rule["record"].split(":")
        assert level, rule["record"]
        assert metric.startswith("callsla_"), rule["record"]
        assert operations, rule["record"]


def test_every_alert_tells_a_supervisor_what_happened_and_what_to_do() -> None:
    for rule in _rules("alert"):
        assert rule["annotations"]["summary"].strip(), rule["alert"]
        assert rule["annotations"]["description"].strip(), rule["alert"]
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
