"""Wallboard access by configuration: public, or the kiosk token (once in the URL, then its
cookie) or a console login; /metrics and /healthz stay open either way."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from monitor.live.console import Console, ConsoleSettings
from monitor.store import open_store
from tests.unit.monitor.live.console.conftest import console_server

Serve = Callable[[str], AbstractAsyncContextManager[str]]
KIOSK = "kiosk-secret-123"


@pytest.fixture
def serve(tmp_path: Path) -> Serve:
    @asynccontextmanager
    async def serving(token: str) -> AsyncIterator[str]:
        with open_store(f"sqlite:///{tmp_path / 'board.db'}") as store:
            console = Console(ConsoleSettings(pbx="unit", timezone=ZoneInfo("UTC"),
                                              wallboard_token=token), store=lambda: store)
            board = {"/wallboard": lambda: ("200 OK", "text/html; charset=utf-8", b"board")}
            async with console_server(console, pages=board) as base:
                yield base
    return serving


async def _status(client: aiohttp.ClientSession, url: str) -> int:
    async with client.get(url, allow_redirects=False) as response:
        return response.status


async def test_without_a_token_setting_the_wallboard_is_public(serve: Serve) -> None:
    async with serve("") as base, aiohttp.ClientSession() as client:
        assert await _status(client, f"{base}/wallboard") == 200


async def test_with_a_token_the_wallboard_needs_it_and_metrics_stay_open(serve: Serve) -> None:
    jar = aiohttp.CookieJar(unsafe=True)
    async with serve(KIOSK) as base, aiohttp.ClientSession(cookie_jar=jar) as client:
        assert await _status(client, f"{base}/wallboard") == 303  # to the login page
        assert await _status(client, f"{base}/wallboard?kiosk=wrong") == 303
        assert await _status(client, f"{base}/wallboard?kiosk={KIOSK}") == 200
        assert await _status(client, f"{base}/wallboard") == 200  # the kiosk's cookie
        for path in ("/metrics", "/healthz"):
            async with aiohttp.ClientSession() as fresh:
                assert await _status(fresh, f"{base}{path}") == 200
