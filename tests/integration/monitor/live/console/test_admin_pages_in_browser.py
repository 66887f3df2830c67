"""The auditor's and the admin's pages in headless Chromium against a running `callsla monitor`:
an auditor downloads a masked and an unmasked export (with a reason), both in the log and the
page; the rights, each a test; the API over HTTP with tokens made by `callsla users token`.
Screenshots: docs/console-auditor.png, docs/console-accounts.png."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from lab.browser import BrowserTab
from monitor.live.console.api_tokens import create_token
from monitor.reports.export_log import verify_chain
from monitor.reports.report_store import ReportStore
from monitor.store import open_store
from tests.support.console_data import CALLER_NUMBER, PASSWORD, seed_console_store
from tests.support.console_session import post_form_js
from tests.support.store_only_monitor import store_only_monitor

DOCS = Path(__file__).resolve().parents[5] / "docs"
TODAY = datetime.now(ZoneInfo("Asia/Kuala_Lumpur")).date().isoformat()
DESK = {"width": 1280, "height": 900}


def _healthy(base: str) -> bool:
    with urllib.request.urlopen(f"{base}/healthz", timeout=2):
        return True


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A monitor (no AMI: the calls are in the store) with one account per role."""
    folder = tmp_path_factory.mktemp("console-admin")
    db_url = f"sqlite:///{folder / 'console.db'}"
    with open_store(db_url) as store:
        seed_console_store(store, pbx="lab")
    with store_only_monitor(db_url, folder, _healthy) as base:
        yield base, db_url


async def _logged_in(base: str, user: str, *, lang: str = "en") -> BrowserTab:
    tab = await BrowserTab.open(**DESK)
    await tab.goto(f"{base}/login?lang={lang}")
    await tab.evaluate(f"""document.getElementById('username').value = '{user}';
        document.getElementById('password').value = '{PASSWORD}';
        document.getElementById('login-form').submit();""")
    await tab.wait_for("location.pathname === '/callbacks'")
    return tab


async def test_an_auditor_downloads_masked_and_unmasked_exports_both_in_the_log(
        console: tuple[str, str]) -> None:
    base, db_url = console
    tab = await _logged_in(base, "aziz", lang="ms")
    try:
        await tab.evaluate("document.getElementById('nav-auditor').click()")
        await tab.wait_for("document.getElementById('export-form')")
        masked = await tab.evaluate(post_form_js("export-form"))
        await tab.evaluate("""document.getElementById('unmasked').checked = true;
            document.getElementById('reason').value = 'Aduan awam 2026/17';""")
        unmasked = await tab.evaluate(post_form_js("export-form"))
        await tab.goto(f"{base}/auditor")
        await tab.wait_for("document.querySelectorAll('.log-entry').length === 2")
        rows = await tab.evaluate(
            "[...document.querySelectorAll('.log-entry')].map(r => r.dataset.masked + ' ' + "
            "r.dataset.by + ' ' + r.innerText)")
        chain = await tab.evaluate("document.getElementById('chain-state').dataset.state")
        await tab.evaluate("document.getElementById('unmasked').checked = true;"
                           "document.getElementById('reason').value = 'Aduan awam 2026/17';")
        await tab.screenshot(DOCS / "console-auditor.png")
    finally:
        await tab.close()
    assert masked["status"] == 200
    assert masked["disposition"].startswith('attachment; filename="callsla-export-')
    assert masked["disposition"].endswith(f'-{TODAY}.csv"')
    assert CALLER_NUMBER not in masked["text"]
    assert masked["text"].count("******6789") == 3
    assert unmasked["status"] == 200
    assert unmasked["text"].count(CALLER_NUMBER) == 3
    assert rows[0].startswith("no console:aziz")
    assert "Aduan awam 2026/17" in rows[0]
    assert rows[1].startswith("yes console:aziz")
    assert chain == "intact"
    with open_store(db_url) as store:
        entries = ReportStore(store).whole_export_log()
    assert [(e.exported_by, e.masked, e.reason) for e in entries] == [
        ("console:aziz", True, ""), ("console:aziz", False, "Aduan awam 2026/17")]
    assert not verify_chain(entries).problems


async def test_a_help_desk_user_cannot_download_unmasked_data_or_manage_accounts(
        console: tuple[str, str]) -> None:
    base, _ = console
    tab = await _logged_in(base, "siti")
    try:
        links = await tab.evaluate("[...document.querySelectorAll('header a')].map(a => a.id)")
        token = await tab.evaluate("document.querySelector('[name=csrf_token]').value")
        refused = await tab.evaluate(f"""(async () => {{
            const body = new FormData();
            for (const [k, v] of Object.entries({{csrf_token: '{token}', from: '{TODAY}',
                    to: '{TODAY}', format: 'csv', unmasked: '1', reason: 'curious'}}))
                body.append(k, v);
            const exported = await fetch('/auditor/export', {{method: 'POST', body}});
            const accounts = await fetch('/accounts');
            body.set('username', 'eve'); body.set('role', 'admin');
            body.set('password', 'a long password');
            const created = await fetch('/accounts', {{method: 'POST', body}});
            return [exported.status, accounts.status, created.status];
        }})()""")
    finally:
        await tab.close()
    assert "nav-auditor" not in links
    assert "nav-accounts" not in links
    assert refused == [403, 403, 403]


async def test_an_auditor_cannot_manage_accounts(console: tuple[str, str]) -> None:
    base, _ = console
    tab = await _logged_in(base, "aziz")
    try:
        await tab.goto(f"{base}/accounts")
        text = await tab.evaluate("document.body.innerText")
        links = await tab.evaluate("[...document.querySelectorAll('a')].map(a => a.id)")
    finally:
        await tab.close()
    assert "You may not do that." in text
    assert "nav-accounts" not in links


async def test_an_admin_adds_an_account_in_the_accounts_page(console: tuple[str, str]) -> None:
    base, db_url = console
    tab = await _logged_in(base, "root")
    try:
        await tab.evaluate("document.getElementById('nav-accounts').click()")
        await tab.wait_for("document.getElementById('add-account')")
        await tab.evaluate("""document.getElementById('new-username').value = 'nora';
            document.getElementById('new-display-name').value = 'Nora binti Ali';
            document.getElementById('new-role').value = 'supervisor';
            document.getElementById('new-password').value = 'kata-laluan-nora';
            document.getElementById('add-account').requestSubmit();""")
        await tab.wait_for("document.querySelector('[data-user=\"nora\"]')")
        await tab.screenshot(DOCS / "console-accounts.png")
    finally:
        await tab.close()
    with open_store(db_url) as store:
        nora = store.get_account("nora")
    assert nora is not None
    assert (nora.role.value, nora.display_name) == ("supervisor", "Nora binti Ali")


def _api(base: str, method: str, path: str, *, token: str = "",
         body: dict[str, object] | None = None) -> int:
    request = urllib.request.Request(
        f"{base}{path}", method=method, data=json.dumps(body or {}).encode(),
        headers={"Content-Type": "application/json",
                 **({"Authorization": f"Bearer {token}"} if token else {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _cli_token(db_url: str, user: str) -> str:
    made = subprocess.run([sys.executable, "-m", "monitor", "users", "token", user,
                           "--label", "helpdesk system"], env={**os.environ,
                          "CALLSLA_DB_URL": db_url}, capture_output=True, text=True, check=True)
    return made.stdout.strip()


def test_the_api_needs_a_token_and_a_help_desk_token_cannot_export_unmasked(
        console: tuple[str, str]) -> None:
    base, db_url = console
    unmasked = {"from": TODAY, "to": TODAY, "unmasked": True, "reason": "helpdesk ticket"}
    assert _api(base, "GET", "/api/callbacks") == 401
    assert _api(base, "POST", "/api/exports", body=unmasked) == 401
    help_desk = _cli_token(db_url, "siti")
    assert _api(base, "GET", "/api/callbacks", token=help_desk) == 200
    assert _api(base, "POST", "/api/exports", token=help_desk, body=unmasked) == 403
    with open_store(db_url) as store:
        _, auditor = create_token(store, "aziz")
    assert _api(base, "GET", "/api/exports", token=auditor) == 200
