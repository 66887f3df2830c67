"""The auditor's page over real HTTP: exports masked by default, unmasked only for an auditor
with a reason, each in the export log (as console:NAME) before it is served."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd

from monitor.reports.export_log import verify_chain
from monitor.reports.report_store import ReportStore
from tests.support.console_data import CALLER_NUMBER
from tests.unit.monitor.live.console.conftest import Served, browser, logged_in

TODAY = datetime.now(ZoneInfo("Asia/Kuala_Lumpur")).date().isoformat()


def _export_form(token: str, **extra: str) -> dict[str, str]:
    return {"csrf_token": token, "from": TODAY, "to": TODAY, "format": "csv", **extra}


def _log(served: Served) -> list:
    return ReportStore(served.store).whole_export_log()


async def test_an_auditor_downloads_masked_by_default_and_unmasked_with_a_reason(
        served: Served) -> None:
    async with browser() as client:
        token = await logged_in(client, served.base, "aziz")
        async with client.post(f"{served.base}/auditor/export",
                               data=_export_form(token)) as response:
            assert response.status == 200
            assert "attachment" in response.headers["Content-Disposition"]
            masked = pd.read_csv(io.BytesIO(await response.read()), dtype=str)
        async with client.post(f"{served.base}/auditor/export", data=_export_form(
                token, unmasked="1", reason="aduan 2026/17", format="parquet")) as response:
            assert response.status == 200
            unmasked = pd.read_parquet(io.BytesIO(await response.read()))
        async with client.get(f"{served.base}/auditor") as response:
            page = await response.text()
    assert len(masked) == len(unmasked) == 3
    assert set(masked["caller_number"]) == {"******6789"}
    assert set(unmasked["caller_number"]) == {CALLER_NUMBER}
    entries = _log(served)
    assert [(e.exported_by, e.masked, e.reason, e.format) for e in entries] == [
        ("console:aziz", True, "", "csv"), ("console:aziz", False, "aduan 2026/17", "parquet")]
    assert not verify_chain(entries).problems
    assert page.count('class="log-entry"') == 2
    assert "aduan 2026/17" in page
    assert 'data-state="intact"' in page


async def test_an_unmasked_export_without_a_reason_is_refused_and_not_logged(
        served: Served) -> None:
    async with browser() as client:
        token = await logged_in(client, served.base, "aziz")
        async with client.post(f"{served.base}/auditor/export",
                               data=_export_form(token, unmasked="1")) as response:
            assert response.status == 400
            assert "needs a reason" in await response.text()
        async with client.post(f"{served.base}/auditor/export",
                               data=_export_form(token, to="2000-01-01")) as response:
            assert response.status == 400
    assert _log(served) == []


async def test_a_help_desk_user_cannot_download_unmasked_data_nor_open_the_page(
        served: Served) -> None:
    async with browser() as client:
        token = await logged_in(client, served.base, "siti")
        async with client.post(f"{served.base}/auditor/export", data=_export_form(
                token, unmasked="1", reason="curious")) as response:
            assert response.status == 403
        async with client.get(f"{served.base}/auditor") as response:
            assert response.status == 403
    assert _log(served) == []


async def test_a_supervisor_exports_masked_only(served: Served) -> None:
    async with browser() as client:
        token = await logged_in(client, served.base, "mira")
        async with client.get(f"{served.base}/auditor") as response:
            assert 'id="unmasked"' not in await response.text()
        async with client.post(f"{served.base}/auditor/export", data=_export_form(
                token, unmasked="1", reason="curious")) as response:
            assert response.status == 403
        async with client.post(f"{served.base}/auditor/export",
                               data=_export_form(token, format="xlsx")) as response:
            assert response.status == 200
            assert (await response.read())[:2] == b"PK"
    assert [(e.exported_by, e.masked) for e in _log(served)] == [("console:mira", True)]


async def test_an_auditor_takes_the_quarterly_report_logged_before_it_is_served(
        served: Served) -> None:
    today = datetime.now(ZoneInfo("Asia/Kuala_Lumpur")).date()
    quarter = f"{today.year}Q{(today.month - 1) // 3 + 1}"
    async with browser() as client:
        token = await logged_in(client, served.base, "aziz")
        async with client.post(f"{served.base}/auditor/report", data={
                "csrf_token": token, "quarter": quarter, "format": "xlsx"}) as response:
            assert response.status == 200
            assert (await response.read())[:2] == b"PK"
        async with client.post(f"{served.base}/auditor/report", data={
                "csrf_token": token, "quarter": "1999Q5", "format": "xlsx"}) as response:
            assert response.status == 400
    assert [(e.kind, e.exported_by, e.path) for e in _log(served)] == [
        ("report", "console:aziz", f"download callsla-report-{quarter}.xlsx")]
