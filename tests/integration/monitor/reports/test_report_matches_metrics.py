"""For the lab's scripted calls, the quarterly report's 10-s answer rate and missed-call counts
equal what Prometheus scraped from the live monitor for the same calls."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from lab import Lab
from lab.calls import set_phone
from monitor.ami import AmiClient
from monitor.core.charter import load_charter
from monitor.reports.export import ExportRequest, export_calls
from monitor.reports.indicators import ALL_DEPARTMENTS
from monitor.reports.periods import Period, day_range
from monitor.reports.report import build_report
from monitor.reports.report_store import ReportStore
from monitor.store import open_store
from tests.support.calls_helper import QueueWatcher, call_and_wait
from tests.support.monitor_run import MonitorRun, wait_for

PBX = "lab-report"
# (answer after s, patience s): answered in 3, 12 and 1.5 s; one caller gives up after 5 s
SCRIPT = [(3, 120), (12, 120), (1.5, 120), (999, 5)]


def prometheus_vector(lab: Lab, expr: str) -> dict[str, float]:
    url = f"{lab.config.prometheus_url}/api/v1/query?query={urllib.parse.quote(expr)}"
    with urllib.request.urlopen(url, timeout=5) as response:
        body = json.load(response)
    assert body["status"] == "success", body
    return {str(r["metric"].get("cause", "")): float(r["value"][1])
            for r in body["data"]["result"]}


def prometheus(lab: Lab, expr: str) -> float | None:
    found = prometheus_vector(lab, expr)
    return next(iter(found.values())) if found else None


async def test_report_equals_live_metrics(lab: Lab, ami: AmiClient, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path}/report.db"
    run = MonitorRun(lab, db_url, pbx=PBX).start()
    try:
        for phone in ("r1", "r2", "r3"):
            await set_phone(ami, phone, answer_after=999, talk_for=0.5)
        # rate() is exact for a ratio only when both series were scraped at 0 before the
        # first call, as on a monitor that has run a while: wait for that first scrape.
        zero = (f'sum(callsla_calls_offered_total{{pbx="{PBX}"}})'
                f' + sum(callsla_answer_wait_seconds_bucket{{pbx="{PBX}",le="10.0"}})')
        wait_for(lambda: prometheus(lab, zero) == 0, 20, "Prometheus to scrape the zeros")
        async with QueueWatcher(ami) as watcher:
            for n, (answer_after, patience) in enumerate(SCRIPT):
                await call_and_wait(ami, watcher, answer_after=answer_after,
                                    patience=patience, caller_id=f"03666000{n:02d}")
        wait_for(lambda: run.value("callsla_calls_answered_total", pbx=PBX)
                 + run.value("callsla_calls_missed_total", pbx=PBX) == len(SCRIPT), 15,
                 "all legs settled")
        settled = (f'sum(callsla_calls_answered_total{{pbx="{PBX}"}})'
                   f' + sum(callsla_calls_missed_total{{pbx="{PBX}"}})')
        wait_for(lambda: prometheus(lab, settled) == len(SCRIPT), 20,
                 "Prometheus to scrape the final counts")
        live_rate = prometheus(
            lab, f'sum(rate(callsla_answer_wait_seconds_bucket{{pbx="{PBX}",le="10.0"}}[1h]))'
                 f' / sum(rate(callsla_calls_offered_total{{pbx="{PBX}"}}[1h]))')
        live_missed = prometheus_vector(
            lab, f'sum by (cause) (callsla_calls_missed_total{{pbx="{PBX}"}})')
    finally:
        run.stop()

    charter = load_charter()
    today = datetime.now(charter.timezone).date()
    period = day_range(today, today, charter.timezone)
    with open_store(db_url) as store:
        source = ReportStore(store)
        report = build_report(source, charter, Period(period.start, period.end, "lab"))
        export = export_calls(source, charter, ExportRequest(
            period=period, fmt="parquet", out=tmp_path / "legs.parquet", progress=False))
    row = report.indicators[(report.indicators["month"] == "quarter")
                            & (report.indicators["department"] == ALL_DEPARTMENTS)].iloc[0]

    assert (row["offered"], row["answered_within_standard"], row["missed"]) == (4, 2, 1)
    assert live_rate == pytest.approx(row["answer_rate"], rel=1e-9)
    assert live_rate == pytest.approx(0.5)
    for cause, count in live_missed.items():
        assert row[f"missed_{cause}"] == count, cause
    assert sum(live_missed.values()) == row["missed"]
    legs = pd.read_parquet(tmp_path / "legs.parquet")
    assert export.row_count == len(legs) == row["offered"]
    assert legs["answered_within_standard"].sum() == row["answered_within_standard"]
