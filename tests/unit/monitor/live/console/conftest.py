"""A console with exports on a real aiohttp server and SQLite store, for the admin and auditor
pages' and the API's tests."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from prometheus_client import CollectorRegistry

from monitor.core.charter import load_charter
from monitor.live.console import Console, ConsoleSettings, console_routes
from monitor.live.console.downloads import Downloads
from monitor.live.http_server import MonitorHttpServer, Page
from monitor.store import Store, open_store
from tests.support.console_data import PASSWORD, seed_console_store

PBX = "unit"


@dataclass
class Served:
    store: Store
    base: str
    console: Console


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    url = f"sqlite:///{tmp_path / 'console.db'}"
    store = open_store(url)
    seed_console_store(store, pbx=PBX)
    charter = load_charter()
    console = Console(ConsoleSettings(pbx=PBX, timezone=ZoneInfo("Asia/Kuala_Lumpur")),
                      store=lambda: store,
                      downloads=Downloads(charter=charter, pbx=PBX,
                                          reader=lambda: open_store(url)))
    async with console_server(console) as base:
        yield Served(store=store, base=base, console=console)
    store.close()


@asynccontextmanager
async def console_server(console: Console, *,
                         pages: Mapping[str, Page] | None = None) -> AsyncIterator[str]:
    """The console on the monitor's HTTP server at a free port; yields its base URL."""
    http = MonitorHttpServer(registry=CollectorRegistry(), health=lambda: {"ok": True},
                             pages=pages, routes=console_routes(console),
                             middlewares=[console.guard])
    await http.start("127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{http.port}"
    finally:
        await http.close()


def browser() -> aiohttp.ClientSession:
    """Keeps cookies for 127.0.0.1, as a browser does."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


def csrf_token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "no CSRF token in the page"
    return found.group(1)


async def logged_in(client: aiohttp.ClientSession, base: str, user: str) -> str:
    """Log in; the session's CSRF token (from the page logging in leads to)."""
    async with client.get(f"{base}/login") as response:
        token = csrf_token(await response.text())
    async with client.post(f"{base}/login", data={"username": user, "password": PASSWORD,
                                                   "csrf_token": token}) as response:
        assert response.status == 200, await response.text()
        return csrf_token(await response.text())
