"""The JSON API over real HTTP: bearer tokens with their account's rights, no CSRF."""

from __future__ import annotations

import aiohttp

from monitor.live.console.api_tokens import create_token, revoke_token
from monitor.reports.report_store import ReportStore
from tests.unit.monitor.live.console.conftest import Served
from tests.unit.monitor.live.console.test_auditor_pages import TODAY

OPEN_CALLBACK = {"pbx": "unit", "callback_id": "cb1"}


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def test_without_a_token_or_with_a_bad_one_the_api_answers_401(served: Served) -> None:
    _, secret = create_token(served.store, "aziz")
    revoke_token(served.store, served.store.api_tokens()[0].token_id)
    async with aiohttp.ClientSession() as client:
        for headers in ({}, _bearer("callsla_not-a-token"), _bearer(secret),
                        {"Authorization": "Basic cm9vdDpyb290"}):
            for method, path in (("GET", "/api/callbacks"), ("GET", "/api/exports"),
                                 ("POST", "/api/exports")):
                async with client.request(method, f"{served.base}{path}",
                                          headers=headers, json={}) as response:
                    assert response.status == 401, (headers, path)
                    assert response.headers["WWW-Authenticate"] == "Bearer"
        async with client.get(f"{served.base}/api/openapi.json") as response:
            spec = await response.json()
    assert "/api/exports" in spec["paths"]


async def test_a_help_desk_token_cannot_export_unmasked(served: Served) -> None:
    _, secret = create_token(served.store, "siti", "helpdesk system")
    async with aiohttp.ClientSession(headers=_bearer(secret)) as client:
        async with client.post(f"{served.base}/api/exports", json={
                "from": TODAY, "to": TODAY, "unmasked": True, "reason": "x"}) as response:
            assert response.status == 403
        async with client.get(f"{served.base}/api/callbacks") as response:
            assert response.status == 200
            assert (await response.json()) == {"callbacks": []}
    assert ReportStore(served.store).whole_export_log() == []


async def test_an_auditor_token_exports_unmasked_with_a_reason_logged_as_api(
        served: Served) -> None:
    _, secret = create_token(served.store, "aziz")
    async with aiohttp.ClientSession(headers=_bearer(secret)) as client:
        async with client.post(f"{served.base}/api/exports", json={
                "from": TODAY, "to": TODAY, "unmasked": True}) as response:
            assert response.status == 400  # no reason
        async with client.post(f"{served.base}/api/exports", json={
                "from": TODAY, "to": TODAY, "unmasked": True,
                "reason": "semakan audit"}) as response:
            assert response.status == 200
            assert (await response.text()).count("0123456789") == 3
        async with client.get(f"{served.base}/api/exports") as response:
            log = await response.json()
    assert log["chain"]["intact"] is True
    assert [(e["exported_by"], e["masked"], e["reason"]) for e in log["entries"]] == [
        ("api:aziz", False, "semakan audit")]
