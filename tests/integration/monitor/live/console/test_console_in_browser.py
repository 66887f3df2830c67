"""A help-desk user in headless Chromium, on a phone-sized screen, against a running
`callsla monitor`: logs in, sees the open callback, closes it; the store and
`callsla_callbacks_open` follow. Each page's screenshot goes to docs/console-*.png."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from lab.browser import BrowserTab
from monitor.core.accounts import Role
from monitor.core.records import Callback, CallbackStatus
from monitor.live.console.accounts import add_account
from monitor.store import open_store
from tests.support.store_only_monitor import store_only_monitor

DOCS = Path(__file__).resolve().parents[5] / "docs"
PASSWORD = "kata-laluan-siti"


def _callbacks_open(base: str) -> float | None:
    with urllib.request.urlopen(f"{base}/metrics", timeout=5) as response:
        text = response.read().decode()
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "callsla_callbacks_open" and s.labels.get("department") == "lesen":
                return float(s.value)
    return None


@pytest.fixture
def monitor(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A monitor (no AMI: the callback comes through the store) with one help-desk account."""
    db_url = f"sqlite:///{tmp_path / 'console.db'}"
    with open_store(db_url) as store:
        add_account(store, "siti", Role.HELP_DESK, PASSWORD, display_name="Siti Aishah")
        now = datetime.now(UTC)
        store.save_callback(Callback(
            pbx="lab", callback_id="cb-browser", call_id="c1", officer="Encik Rahman",
            department="lesen", caller_name="Puan Aminah binti Yusof",
            contacted_at=now - timedelta(minutes=40), caller_number="0123456789",
            matter="voicemail callsla/2001/INBOX/msg0000 for Encik Rahman",
            due_at=now + timedelta(hours=23)))
    with store_only_monitor(db_url, tmp_path, lambda base: _callbacks_open(base) == 1) as base:
        yield base, db_url


async def test_a_help_desk_user_closes_a_callback_in_the_browser(
        monitor: tuple[str, str]) -> None:
    base, db_url = monitor
    assert _callbacks_open(base) == 1
    tab = await BrowserTab.open()
    try:
        await tab.goto(f"{base}/callbacks?lang=ms")
        assert await tab.evaluate("location.pathname") == "/login"
        await tab.screenshot(DOCS / "console-login.png")
        await tab.evaluate(f"""document.getElementById('username').value = 'siti';
            document.getElementById('password').value = '{PASSWORD}';
            document.getElementById('login-form').submit();""")
        await tab.wait_for("document.querySelector('[data-callback=\"cb-browser\"]')")
        card = await tab.evaluate(
            "document.querySelector('[data-callback=\"cb-browser\"]').innerText")
        assert "Puan Aminah binti Yusof" in card
        assert "0123456789" in card
        await tab.evaluate("document.getElementById('action-cb-browser').value = "
                           "'Dihubungi semula; lesen diperbaharui'")
        await tab.screenshot(DOCS / "console-callbacks.png")
        await tab.evaluate("document.querySelector('.close-form').requestSubmit()")
        await tab.wait_for("document.getElementById('closed-notice')")
        assert await tab.evaluate("document.getElementById('no-callbacks') !== null")
        await tab.goto(f"{base}/callbacks?show=closed&lang=en")
        await tab.wait_for("document.querySelector('[data-status=\"closed\"]')")
        await tab.screenshot(DOCS / "console-closed.png")
    finally:
        await tab.close()
    with open_store(db_url) as store:
        closed = store.get_callback("lab", "cb-browser")
    assert closed is not None
    assert closed.status is CallbackStatus.CLOSED
    assert closed.action_taken == "Dihubungi semula; lesen diperbaharui"
    assert closed.caller_informed_at is not None
    for _ in range(20):  # the console refreshes the gauge at the close
        if _callbacks_open(base) == 0:
            break
        await asyncio.sleep(0.1)
    assert _callbacks_open(base) == 0
