"""Every panel of every dashboard has data during the demo's simulated day, call-flow panels
included: `python -m lab demo` (the whole product: FastAGI call flows, monitor, Prometheus with
the rules) runs until a status message, a returned transfer and a callback have been counted,
then every panel query is run against its real Prometheus and must return data of its shape.

tests/integration/dashboards/test_panel_queries.py checks the same panels during front-desk
calls placed directly; this module adds the families only the call-flow scripts feed.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from dashboards import DASHBOARD_DIR
from dashboards.build import BUILDERS
from lab import Lab
from lab.config import LabConfig
from tests.integration.dashboards.test_panel_queries import _check_shape, _run
from tests.integration.lab.test_demo import DemoRun, _wait_for_url
from tests.integration.lab.test_demo import demo as demo  # the same demo fixture, for this module
from tests.support.grafana_variables import VARIABLES, grafana_expr
from tests.support.lab_traffic import instant

CALL_FLOWS_COUNTED_WITHIN_SECONDS = 180.0
# Counted in Prometheus once the day's opening officer callers have been through their flows.
CALL_FLOW_FIGURES = (
    'sum(callsla_status_announcement_interval_seconds_count{pbx="lab"})',
    'sum(callsla_transfers_returned_total{pbx="lab"})',
    'sum(callsla_voicemails_total{pbx="lab"})',
    'sum(callsla_callbacks_open{pbx="lab"})',
    'count(pbx:callsla_status_announcement_on_time:ratio_rate15m{pbx="lab"} >= 0)',
)


@pytest.fixture(scope="module", autouse=True)
def quiet_pbx() -> None:
    """The demo starts its own lab: this module needs none of the session's."""


@pytest.fixture(scope="module")
def demo_prometheus(demo: DemoRun) -> Lab:
    """A handle on the demo's own lab (its Prometheus), once every call-flow figure counts."""
    _wait_for_url(demo, "wallboard", timeout=150)
    config = LabConfig(lab_dir=demo.lab_dir, cache_dir=LabConfig.from_env().cache_dir,
                       ports=demo.ports)
    lab = Lab(config)
    deadline = time.monotonic() + CALL_FLOWS_COUNTED_WITHIN_SECONDS
    missing: list[str] = list(CALL_FLOW_FIGURES)
    while missing and time.monotonic() < deadline:
        missing = [expr for expr in CALL_FLOW_FIGURES
                   if not any(float(r["value"][1]) > 0 for r in instant(lab, expr))]
        time.sleep(3)
    assert not missing, f"not counted after {CALL_FLOWS_COUNTED_WITHIN_SECONDS:.0f} s: {missing}"
    return lab


@pytest.mark.parametrize("name", list(BUILDERS))
def test_every_panel_has_data_during_the_demo(demo_prometheus: Lab, name: str) -> None:
    board: dict[str, Any] = json.loads((DASHBOARD_DIR / name).read_text("utf-8"))
    assert VARIABLES["$pbx"] == "lab"
    empty = []
    checked = 0
    for panel in board["panels"]:
        for target in panel.get("targets", []):
            expr = grafana_expr(target["expr"])
            result = _run(demo_prometheus, panel, expr)
            if not result:
                empty.append(f"{panel['title']!r}: {expr}")
            _check_shape(panel, expr, result)
            checked += 1
    assert checked
    assert not empty, "panels with no data during the demo:\n" + "\n".join(empty)
