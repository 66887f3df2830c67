"""The admin's accounts page over real HTTP, and who may not use it."""

from __future__ import annotations

import re

from monitor.core.accounts import Role
from tests.unit.monitor.live.console.conftest import Served, browser, logged_in


async def test_a_help_desk_user_and_an_auditor_cannot_manage_accounts(served: Served) -> None:
    for user in ("siti", "aziz"):
        async with browser() as client:
            token = await logged_in(client, served.base, user)
            async with client.get(f"{served.base}/accounts") as response:
                assert response.status == 403
            for path, form in (("/accounts", {"username": "eve", "role": "admin",
                                              "password": "0123456789ab"}),
                               ("/accounts/root/disable", {}),
                               ("/accounts/siti/role", {"role": "admin"}),
                               ("/accounts/root/token", {"label": "x"})):
                async with client.post(f"{served.base}{path}",
                                       data={"csrf_token": token, **form}) as response:
                    assert response.status == 403, (user, path)
    assert served.store.get_account("eve") is None
    assert served.store.api_tokens() == []
    root, siti = served.store.get_account("root"), served.store.get_account("siti")
    assert root is not None
    assert not root.disabled
    assert siti is not None
    assert siti.role is Role.HELP_DESK


async def test_an_admin_creates_changes_and_disables_accounts(served: Served) -> None:
    async with browser() as client, browser() as siti:
        await logged_in(siti, served.base, "siti")
        token = await logged_in(client, served.base, "root")
        async with client.post(f"{served.base}/accounts", data={
                "csrf_token": token, "username": "Nora", "display_name": "Nora Ali",
                "role": "supervisor", "password": "0123456789ab"}) as response:
            assert response.status == 200
            assert 'data-user="nora"' in await response.text()
        async with client.post(f"{served.base}/accounts", data={
                "csrf_token": token, "username": "nora", "role": "auditor",
                "password": "0123456789ab"}) as response:
            assert response.status == 400
            assert "exists already" in await response.text()
        async with client.post(f"{served.base}/accounts/siti/role",
                               data={"csrf_token": token, "role": "auditor"}) as response:
            assert response.status == 200
        async with siti.get(f"{served.base}/callbacks", allow_redirects=False) as response:
            assert response.status == 303  # the role change ended siti's session
        async with client.post(f"{served.base}/accounts/nora/disable",
                               data={"csrf_token": token}) as response:
            assert 'data-user="nora" data-role="supervisor" data-disabled="yes"' in (
                await response.text())
        async with client.post(f"{served.base}/accounts/root/disable",
                               data={"csrf_token": token}) as response:
            assert response.status == 400
            assert "your own account" in await response.text()
        async with client.post(f"{served.base}/accounts/nora/password",
                               data={"csrf_token": token, "password": "short"}) as response:
            assert response.status == 400
            assert "at least 10" in await response.text()
    siti_now = served.store.get_account("siti")
    assert siti_now is not None
    assert siti_now.role is Role.AUDITOR
    root = served.store.get_account("root")
    assert root is not None
    assert not root.disabled


async def test_an_admin_makes_a_token_shown_once_that_the_api_takes_then_revokes_it(
        served: Served) -> None:
    async with browser() as client:
        token = await logged_in(client, served.base, "root")
        async with client.post(f"{served.base}/accounts/siti/token",
                               data={"csrf_token": token, "label": "helpdesk"}) as response:
            page = await response.text()
        found = re.search(r'id="new-token-secret">(callsla_[^<]+)<', page)
        assert found is not None
        secret = found.group(1)
        async with client.get(f"{served.base}/accounts") as response:
            assert secret not in await response.text()
        bearer = {"Authorization": f"Bearer {secret}"}
        async with client.get(f"{served.base}/api/callbacks", headers=bearer) as response:
            assert response.status == 200
        token_id = served.store.api_tokens()[0].token_id
        async with client.post(f"{served.base}/api-tokens/{token_id}/revoke",
                               data={"csrf_token": token}) as response:
            assert response.status == 200
        async with client.get(f"{served.base}/api/callbacks", headers=bearer) as response:
            assert response.status == 401
