"""For the lab's scripted calls, the quarterly report's 10-s answer rate and missed-call counts
equal what Prometheus scraped from the live monitor for the same calls.

The callers are SIP user agents on the lab's trunk; the front desk is one SIP receptionist's
phone (101), which answers each call after the script's delay (a SIPp run per call)."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from lab import Lab
from lab.sip.phones import sip_phones
from lab.sip.scenarios import Answer, Behaviour, NoAnswer
from monitor.core.charter import load_charter
from monitor.reports.export import ExportRequest, export_calls
from monitor.reports.indicators import ALL_DEPARTMENTS
from monitor.reports.periods import Period, day_range
from monitor.reports.report import build_report
from monitor.reports.report_store import ReportStore
from monitor.store import open_store
from tests.support.monitor_run import MonitorRun, wait_for

PBX = "lab-report"
# (receptionist 101's phone, the caller's patience in s): answered in 3, 12 and 1.5 s; one
# caller gives up after 5 s of ringing
SCRIPT: list[tuple[Behaviour, float]] = [
    (Answer(after=3, talk=0.5), 120), (Answer(after=12, talk=0.5), 120),
    (Answer(after=1.5, talk=0.5), 120), (NoAnswer(), 5)]


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


async def test_report_equals_live_metrics(lab: Lab, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path}/report.db"
    run = MonitorRun(lab, db_url, pbx=PBX).start()
    try:
        # rate() is exact for a ratio only when both series were scraped at 0 before the
        # first call, as on a monitor that has run a while: wait for that first scrape.
        zero = (f'sum(callsla_calls_offered_total{{pbx="{PBX}"}})'
                f' + sum(callsla_answer_wait_seconds_bucket{{pbx="{PBX}",le="10.0"}})')
        wait_for(lambda: prometheus(lab, zero) == 0, 20, "Prometheus to scrape the zeros")
        async with sip_phones(lab) as phones:
            await phones.use_front_desk(["101"])
            phone = phones.receptionist("101", *(behaviour for behaviour, _ in SCRIPT))
            for n, (_, patience) in enumerate(SCRIPT):
                await phone.ready_for(n)  # one call after another: each wait is its own
                caller = await phones.call_in(f"03666000{n:02d}", patience=patience)
                await caller.finished(patience + 30)
            await phones.finished(30)
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
