"""The console's rights, each over real HTTP against the aiohttp server and a SQLite store:
no session gets only the login page; an auditor cannot close callbacks; a help-desk user
cannot manage accounts; a cross-site POST is refused; the sixth wrong password is slowed."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import CollectorRegistry

from monitor.core.accounts import Role
from monitor.core.records import Callback, CallbackStatus
from monitor.live.console import Console, ConsoleSettings, console_routes
from monitor.live.console.accounts import add_account
from monitor.live.http_server import MonitorHttpServer
from monitor.store import Store, open_store
from tests.support.console_session import PASSWORD, csrf_token, login
from tests.support.console_session import browser as _browser

SLOW = 1.0


@dataclass
class Running:
    store: Store
    base: str


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    store = open_store(f"sqlite:///{tmp_path / 'console.db'}")
    for name, role in (("siti", Role.HELP_DESK), ("aziz", Role.AUDITOR), ("root", Role.ADMIN)):
        add_account(store, name, role, PASSWORD)
    now = datetime.now(UTC)
    store.save_callback(Callback(
        pbx="unit", callback_id="cb1", call_id="c1", officer="Encik Rahman", department="lesen",
        caller_name="Puan Aminah", contacted_at=now - timedelta(hours=1),
        caller_number="0123456789", matter="voicemail callsla/2001/INBOX/msg0000 for Rahman",
        due_at=now + timedelta(hours=23)))
    console = Console(ConsoleSettings(pbx="unit", timezone=ZoneInfo("Asia/Kuala_Lumpur"),
                                      login_slow_seconds=SLOW), store=lambda: store)
    http = MonitorHttpServer(registry=CollectorRegistry(), health=lambda: {"ok": True},
                             routes=console_routes(console), middlewares=[console.guard])
    await http.start("127.0.0.1", 0)
    yield Running(store=store, base=f"http://127.0.0.1:{http.port}")
    await http.close()
    store.close()


async def test_without_a_session_every_page_is_the_login_page(running: Running) -> None:
    async with _browser() as client:
        for path in ("/", "/callbacks", "/callbacks?show=closed", "/callbacks/cb1/voicemail"):
            async with client.get(f"{running.base}{path}") as response:
                page = await response.text()
                assert response.url.path == "/login", path
                assert 'id="login-form"' in page
                assert "Aminah" not in page
        async with client.post(f"{running.base}/callbacks/cb1/close",
                               data={"action_taken": "x"}) as response:
            assert response.status == 403
        async with client.get(f"{running.base}/metrics") as response:
            assert response.status == 200  # Prometheus needs no login


async def test_a_help_desk_user_sees_and_closes_a_callback(running: Running) -> None:
    async with _browser() as client:
        status, page = await login(client, running.base, "siti")
        assert status == 200
        assert "Puan Aminah" in page
        assert "0123456789" in page
        async with client.post(f"{running.base}/callbacks/cb1/close", data={
                "action_taken": "Called back, licence renewed", "csrf_token": csrf_token(page),
                "informed_at": "2026-08-03T10:15"}) as response:
            assert response.status == 200
            assert 'id="closed-notice"' in await response.text()
    closed = running.store.get_callback("unit", "cb1")
    assert closed is not None
    assert closed.status is CallbackStatus.CLOSED
    assert closed.action_taken == "Called back, licence renewed"
    assert closed.caller_informed_at == datetime(2026, 8, 3, 2, 15, tzinfo=UTC)
    [event] = running.store.call_events(datetime(2000, 1, 1, tzinfo=UTC),
                                        datetime.now(UTC) + timedelta(minutes=1))
    assert event.source == "console:siti"


async def test_an_auditor_cannot_close_callbacks(running: Running) -> None:
    async with _browser() as client:
        status, page = await login(client, running.base, "aziz")
        assert status == 200
        assert "Puan Aminah" in page
        assert "close-form" not in page
        async with client.post(f"{running.base}/callbacks/cb1/close", data={
                "action_taken": "x", "csrf_token": csrf_token(page)}) as response:
            assert response.status == 403
    still = running.store.get_callback("unit", "cb1")
    assert still is not None
    assert still.status is CallbackStatus.OPEN


async def test_a_help_desk_user_cannot_manage_accounts(running: Running) -> None:
    from monitor.core.accounts import Right
    account = running.store.get_account("siti")
    assert account is not None
    assert not account.may(Right.MANAGE_ACCOUNTS)
    admin = running.store.get_account("root")
    assert admin is not None
    assert admin.may(Right.MANAGE_ACCOUNTS)
    assert not account.may(Right.EXPORT_UNMASKED)


async def test_a_cross_site_post_is_refused(running: Running) -> None:
    async with _browser() as client:
        _status, page = await login(client, running.base, "siti")
        for data in ({"action_taken": "forged"},
                     {"action_taken": "forged", "csrf_token": "not-the-token"}):
            async with client.post(f"{running.base}/callbacks/cb1/close",
                                   data=data) as response:
                assert response.status == 403
        async with client.post(f"{running.base}/callbacks/cb1/close", data={
                "action_taken": "forged", "csrf_token": csrf_token(page)},
                headers={"Origin": "https://evil.example"}) as response:
            assert response.status == 403
        async with client.post(f"{running.base}/login", data={
                "username": "siti", "password": PASSWORD}) as response:
            assert response.status == 403  # a login form without its token
    still = running.store.get_callback("unit", "cb1")
    assert still is not None
    assert still.status is CallbackStatus.OPEN


async def test_the_sixth_wrong_password_in_a_minute_is_slowed(running: Running) -> None:
    async with _browser() as client:
        for attempt in range(1, 7):
            started = time.monotonic()
            status, _ = await login(client, running.base, "siti", "wrong password!")
            took = time.monotonic() - started
            assert status == 401
            if attempt <= 5:
                assert took < SLOW, f"try {attempt} was slowed"
            else:
                assert took >= SLOW, "the sixth wrong password was not slowed"
        started = time.monotonic()
        status, _ = await login(client, running.base, "siti")  # right, but still slowed
        assert status == 200
        assert time.monotonic() - started >= SLOW


async def test_a_disabled_account_cannot_log_in(running: Running) -> None:
    from monitor.live.console.accounts import set_disabled
    set_disabled(running.store, "siti")
    async with _browser() as client:
        status, _ = await login(client, running.base, "siti")
        assert status == 401
