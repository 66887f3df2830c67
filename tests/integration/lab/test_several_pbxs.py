"""Several PBXs (issue 10): three lab Asterisks from the one chroot, a monitor each (`pbx-a`,
`pbx-b`, `pbx-c`), and one Mosquitto, one PostgreSQL and one Prometheus shared by all three.
Each PBX takes a known, different number of calls; Prometheus (per `pbx` label and summed),
the dashboards' `pbx` picker and panel queries, and the quarterly report over the shared
PostgreSQL (per PBX and for all) give exactly the hand count.

The calls are real SIP calls (SIPp callers over each PBX's trunk, three SIP receptionists per
PBX, `answered_and_abandoned_calls` as the panel tests use): the three PBXs' traffic runs at
once, so SIP costs no more wall time than Local channels would, and it is the path a site has.

Ports: the three PBXs sit at this module's lab offset + 0, 16 and 32, each with a block of 16
offset steps (`LabPorts.span`: 160 SIPp phone ports, 9 fixed phones and 7 callers' slots, and
160 RTP ports), so together they stay inside the one lab's 50 steps and never reach the other
xdist worker's lab (`own_lab_offset`). The shared services use the first PBX's ports.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import psycopg
import pytest

from dashboards import DASHBOARD_DIR, RULE_FILES
from dashboards.panels import PBX_ALL
from lab import Lab
from lab.config import LabConfig, LabPorts
from lab.sip.phones import sip_phones
from monitor.core.charter import load_charter
from monitor.reports.indicators import ALL_DEPARTMENTS
from monitor.reports.periods import Period, day_range
from monitor.reports.report import build_report
from monitor.reports.report_store import ReportStore
from monitor.store import open_store
from tests.integration.monitor.store.test_store_postgres import fresh_schema_url
from tests.support.grafana_variables import grafana_expr
from tests.support.lab_traffic import answered_and_abandoned_calls, instant, prometheus, wait_for
from tests.support.monitor_run import MonitorRun

# (answered, abandoned) per PBX: 3, 5 and 7 calls, so no PBX's figures equal another's.
CALLS = {"pbx-a": (2, 1), "pbx-b": (3, 2), "pbx-c": (4, 3)}
PBX_STEP = 16  # offset steps between the PBXs, and each one's span
FAMILIES = ("callsla_calls_offered_total", "callsla_calls_answered_total",
            "callsla_calls_missed_total")
# Rows that do not grow with calls: migrations done, each PBX's backfill position, and the
# export log's entry for the report this module writes.
PER_STORE_TABLES = ("schema_version", "backfill_marks", "export_log")
# The audit board's count panels, by title, and the family each counts.
AUDIT_PANELS = {"Panggilan masuk / Offered": "callsla_calls_offered_total",
                "Dijawab / Answered": "callsla_calls_answered_total",
                "Panggilan terlepas mengikut sebab / Missed calls by cause":
                    "callsla_calls_missed_total"}


def hand_count(family: str) -> dict[str, int]:
    """What each PBX's calls must show: every call is one front-desk leg."""
    answered = {pbx: n for pbx, (n, _) in CALLS.items()}
    missed = {pbx: n for pbx, (_, n) in CALLS.items()}
    offered = {pbx: answered[pbx] + missed[pbx] for pbx in CALLS}
    return {"callsla_calls_offered_total": offered, "callsla_calls_answered_total": answered,
            "callsla_calls_missed_total": missed}[family]


@dataclass
class MonitorCost:
    """What one monitor process used over the test, read from /proc."""

    rss_mib: float
    peak_rss_mib: float
    cpu_seconds: float

    @classmethod
    def of(cls, pid: int) -> MonitorCost:
        status = dict(line.split(":", 1) for line in
                      Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return cls(rss_mib=int(status["VmRSS"].split()[0]) / 1024,
                   peak_rss_mib=int(status["VmHWM"].split()[0]) / 1024,
                   cpu_seconds=(int(fields[11]) + int(fields[12])) / ticks)


@dataclass
class Site:
    """The three PBXs; `shared` is pbx-a's lab, which also runs the broker, PG and Prometheus."""

    labs: dict[str, Lab]
    monitors: dict[str, MonitorRun]
    db_url: str
    at_start: dict[str, MonitorCost]  # once every monitor is up, before any call
    costs: dict[str, MonitorCost] = field(default_factory=dict)  # once every call is counted

    @property
    def shared(self) -> Lab:
        return self.labs["pbx-a"]


def _pid(run: MonitorRun) -> int:
    assert run.process is not None
    return run.process.pid


@pytest.fixture(scope="module", autouse=True)
def quiet_pbx() -> None:
    """This module brings its own PBXs: it needs none of the session's lab."""


def _configs(offset: int) -> dict[str, LabConfig]:
    base = LabConfig.from_env()
    return {pbx: replace(base, lab_dir=base.lab_dir / "several-pbxs" / pbx,
                         ports=LabPorts(offset + PBX_STEP * n, span=PBX_STEP))
            for n, pbx in enumerate(CALLS)}


@pytest.fixture(scope="module")
def site(own_lab_offset: int) -> Iterator[Site]:
    configs = _configs(own_lab_offset)
    metrics = [config.ports.metrics for config in configs.values()]
    labs = {pbx: Lab(config, rule_files=list(RULE_FILES), metrics_ports=metrics)
            for pbx, config in configs.items()}
    monitors: dict[str, MonitorRun] = {}
    try:
        for pbx, lab in labs.items():
            if pbx == "pbx-a":
                lab.start()
            else:
                lab.start(("asterisk",))
        with fresh_schema_url(labs["pbx-a"]) as db_url:
            for pbx, lab in labs.items():  # one after another: the first creates the schema
                monitors[pbx] = MonitorRun(lab, db_url, pbx=pbx, broker=labs["pbx-a"]).start()
            yield Site(labs, monitors, db_url, {pbx: MonitorCost.of(_pid(run))
                                                for pbx, run in monitors.items()})
            for run in monitors.values():
                run.stop()
    finally:
        for run in monitors.values():
            run.stop()
        for lab in labs.values():
            lab.stop()


@pytest.fixture(scope="module")
async def traffic(site: Site) -> Site:
    """Every PBX's calls at once, then Prometheus's last scrape of every count."""
    shared = site.shared
    # increase() sees a call only if its series was scraped at 0 first.
    wait_for(shared, "count(count by (pbx) (callsla_calls_offered_total))", len(CALLS))
    async with AsyncExitStack() as stack:
        phones = [await stack.enter_async_context(sip_phones(lab)) for lab in site.labs.values()]
        await asyncio.gather(*(answered_and_abandoned_calls(p, answered=a, abandoned=m)
                               for p, (a, m) in zip(phones, CALLS.values(), strict=True)))
    for family in FAMILIES:
        for pbx, count in hand_count(family).items():
            wait_for(shared, f'sum({family}{{pbx="{pbx}"}})', count)
    site.costs.update({pbx: MonitorCost.of(_pid(run)) for pbx, run in site.monitors.items()})
    return site


def _by_pbx(result: list[dict[str, Any]]) -> dict[str, float]:
    """A query's series added up per `pbx` label."""
    found: dict[str, float] = {}
    for series in result:
        pbx = series["metric"]["pbx"]
        found[pbx] = found.get(pbx, 0.0) + float(series["value"][1])
    return found


@pytest.mark.parametrize("family", FAMILIES)
def test_prometheus_has_each_pbx_and_the_sum(traffic: Site, family: str) -> None:
    want = hand_count(family)
    assert _by_pbx(instant(traffic.shared, f"sum by (pbx) ({family})")) == want
    total = instant(traffic.shared, f"sum({family})")
    assert float(total[0]["value"][1]) == sum(want.values())


def test_every_monitor_has_its_own_broker_client(traffic: Site) -> None:
    """One broker, three monitors: each connected with a client id naming its PBX (a shared
    id would make the broker drop the other monitor's session)."""
    log = traffic.shared.mosquitto.process.logfile.read_text(errors="replace")
    ids = set(re.findall(r" as (callsla-monitor-\S+) ", log))
    for pbx in CALLS:
        assert [i for i in ids if i.startswith(f"callsla-monitor-{pbx}-")], (pbx, ids)


def _board(name: str) -> dict[str, Any]:
    board: dict[str, Any] = json.loads((DASHBOARD_DIR / name).read_text("utf-8"))
    return board


@pytest.mark.parametrize("name", ["callsla-audit.json", "callsla-trends.json",
                                  "callsla-wallboard.json"])
def test_the_pbx_picker_lists_every_pbx(traffic: Site, name: str) -> None:
    picker = next(v for v in _board(name)["templating"]["list"] if v["name"] == "pbx")
    query = picker["query"]
    query = query["query"] if isinstance(query, dict) else query
    found = re.fullmatch(r"label_values\((\w+), *(\w+)\)", query)
    assert found, query
    values = prometheus(traffic.shared, f"/api/v1/label/{found.group(2)}/values",
                        **{"match[]": found.group(1)})
    assert sorted(values) == sorted(CALLS)
    assert picker["allValue"] == PBX_ALL


@pytest.mark.parametrize("title", list(AUDIT_PANELS))
def test_audit_panels_give_the_hand_count_for_each_pbx_and_all(traffic: Site,
                                                               title: str) -> None:
    """The picker set to each PBX, then to All: the panel's figures add up to the hand count
    of what is picked, and a panel split by `pbx` shows each PBX's own (the missed-calls
    table is split by cause instead)."""
    panel = next(p for p in _board("callsla-audit.json")["panels"] if p["title"] == title)
    [target] = panel["targets"]
    want = hand_count(AUDIT_PANELS[title])
    for picked, pbxs in [*((pbx, [pbx]) for pbx in CALLS), (PBX_ALL, list(CALLS))]:
        result = instant(traffic.shared, grafana_expr(target["expr"], pbx=picked))
        where = (picked, target["expr"])
        assert sum(float(s["value"][1]) for s in result) == sum(want[p] for p in pbxs), where
        if "by (pbx)" in target["expr"]:
            assert _by_pbx(result) == {p: want[p] for p in pbxs}, where


def _report_row(site: Site, pbx: str | None) -> dict[str, Any]:
    charter = load_charter()
    today = datetime.now(charter.timezone).date()
    days = day_range(today, today, charter.timezone)
    with open_store(site.db_url) as store:
        report = build_report(ReportStore(store, pbx=pbx), charter,
                              Period(days.start, days.end, "lab"))
    rows = report.indicators[(report.indicators["month"] == "quarter")
                             & (report.indicators["department"] == ALL_DEPARTMENTS)]
    row: dict[str, Any] = rows.iloc[0].to_dict()
    return row


@pytest.mark.parametrize("pbx", [*CALLS, None])
def test_the_report_over_the_shared_postgresql_gives_the_hand_count(traffic: Site,
                                                                    pbx: str | None) -> None:
    """`callsla report --pbx P` for each PBX, and without --pbx for all of them."""
    row = _report_row(traffic, pbx)
    which = list(CALLS) if pbx is None else [pbx]
    offered, answered, missed = (sum(hand_count(f)[p] for p in which) for f in FAMILIES)
    assert (row["offered"], row["answered"], row["missed"]) == (offered, answered, missed)
    # every answer came after 2 s, so each answered call is within the 10 s standard
    assert row["answered_within_standard"] == answered


def test_callsla_report_runs_over_the_shared_postgresql(traffic: Site, tmp_path: Path) -> None:
    """The command an auditor runs, without --pbx: it covers every PBX in the store and says
    so (the figures are `build_report`'s, checked above; the report has no per-PBX table)."""
    today = datetime.now(load_charter().timezone).date()
    out = tmp_path / "report.xlsx"
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "report", "--quarter",
         f"{today.year}Q{(today.month - 1) // 3 + 1}", "--format", "xlsx", "--out", str(out)],
        env={**os.environ, "CALLSLA_DB_URL": traffic.db_url}, capture_output=True, text=True,
        timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    summary = openpyxl.load_workbook(out).worksheets[0]
    texts = [str(cell.value) for row in summary.iter_rows() for cell in row if cell.value]
    assert any("Every PBX in the store" in text for text in texts), texts[:12]


def test_per_pbx_cost(traffic: Site) -> None:
    """The figures docs/scaling.md quotes: each monitor's memory and CPU over the test, and
    the rows the shared PostgreSQL holds per call."""
    calls = sum(hand_count("callsla_calls_offered_total").values())
    with psycopg.connect(traffic.db_url) as conn:
        tables = [name for (name,) in conn.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")]
        rows = {name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
                for name in tables}
    rows = {name: count for name, count in rows.items() if count}
    for pbx, cost in traffic.costs.items():
        start = traffic.at_start[pbx]
        print(f"\n{pbx} monitor: RSS {start.rss_mib:.1f} MiB at start, {cost.rss_mib:.1f} MiB"
              f" after its calls (peak {cost.peak_rss_mib:.1f}); CPU {start.cpu_seconds:.2f} s"
              f" to start, {cost.cpu_seconds - start.cpu_seconds:.2f} s for"
              f" {hand_count('callsla_calls_offered_total')[pbx]} calls")
    per_call = {name: rows[name] for name in rows if name not in PER_STORE_TABLES}
    print(f"PostgreSQL rows for {calls} calls: {rows};"
          f" {sum(per_call.values()) / calls:.2f} rows a call ({', '.join(per_call)})")
    assert rows["call_legs"] == calls
    for cost in traffic.costs.values():
        assert cost.cpu_seconds > 0
        assert cost.rss_mib > 0
