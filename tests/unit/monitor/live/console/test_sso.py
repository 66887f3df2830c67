"""Single sign-on: the user header is trusted from the configured proxy address only, and the
settings refuse a half or malformed configuration."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from monitor.core.settings import Settings, SettingsError
from monitor.live.console import Console, ConsoleSettings
from monitor.store import open_store
from tests.support.console_data import seed_console_store
from tests.unit.monitor.live.console.conftest import console_server

Serve = Callable[[frozenset[str]], AbstractAsyncContextManager[str]]


@pytest.fixture
def serve(tmp_path: Path) -> Serve:
    """A console trusting X-Remote-User from `proxies`; yields its base URL."""
    @asynccontextmanager
    async def serving(proxies: frozenset[str]) -> AsyncIterator[str]:
        with open_store(f"sqlite:///{tmp_path / 'sso.db'}") as store:
            if store.get_account("siti") is None:
                seed_console_store(store, pbx="unit", calls=0)
            console = Console(ConsoleSettings(pbx="unit", timezone=ZoneInfo("UTC"),
                                              sso_header="X-Remote-User", sso_proxies=proxies),
                              store=lambda: store)
            async with console_server(console) as base:
                yield base
    return serving


async def _callbacks_page(base: str, user: str) -> tuple[str, str]:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as client, client.get(
            f"{base}/callbacks", headers={"X-Remote-User": user}) as response:
        return response.url.path, await response.text()


async def test_the_proxy_signs_a_known_user_on(serve: Serve) -> None:
    async with serve(frozenset({"127.0.0.1"})) as base:
        path, page = await _callbacks_page(base, "Siti")
        assert path == "/callbacks"
        assert "(helpdesk)" in page
        assert (await _callbacks_page(base, "nobody"))[0] == "/login"


async def test_the_header_from_another_address_is_ignored(serve: Serve) -> None:
    async with serve(frozenset({"192.0.2.7"})) as base:
        assert (await _callbacks_page(base, "siti"))[0] == "/login"


def test_sso_settings_come_together_and_name_addresses() -> None:
    assert Settings(console_sso_header="X-Remote-User",
                    console_sso_proxies="127.0.0.1, ::1").sso_proxies == {"127.0.0.1", "::1"}
    assert Settings().sso_proxies == frozenset()
    with pytest.raises(SettingsError, match="set together"):
        _ = Settings(console_sso_header="X-Remote-User").sso_proxies
    with pytest.raises(SettingsError, match="not an IP address"):
        _ = Settings(console_sso_header="X-Remote-User",
                     console_sso_proxies="proxy.example").sso_proxies
