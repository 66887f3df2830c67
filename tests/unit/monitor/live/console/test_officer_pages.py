"""The officers page over HTTP against a fake AMI: the live AstDB status shown, one click
sets it as `callsla officer set-status` does (DBPut), the event names who; the returned
transfers of today with their officer; who may see and set."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from monitor.core.directory import status_key
from tests.support.console_session import browser, csrf_token, login
from tests.unit.monitor.live.console.conftest import Desk


async def test_one_click_sets_an_officer_out_in_astdb(desk: Desk) -> None:
    desk.astdb[status_key("2102")] = "leave"
    async with browser() as client:
        await login(client, desk.base, "siti")
        async with client.get(f"{desk.base}/officers?lang=en") as response:
            page = await response.text()
        assert 'data-officer="2101" data-status="in"' in page  # the directory's default
        assert 'data-officer="2102" data-status="leave"' in page  # AstDB's
        async with client.post(f"{desk.base}/officers/2101/status", data={
                "csrf_token": csrf_token(page), "status": "out"}) as response:
            assert response.status == 200
            after = await response.text()
        assert 'data-officer="2101" data-status="out"' in after
        assert 'id="changed-notice"' in after
    assert desk.astdb[status_key("2101")] == "out"
    [put] = [a for a in desk.ami.actions if a.get("Action") == "DBPut"]
    assert (put["Family"], put["Key"], put["Val"]) == ("callsla", "officer/2101/status", "out")
    [event] = desk.store.call_events(datetime.now(UTC) - timedelta(minutes=1),
                                     datetime.now(UTC) + timedelta(minutes=1))
    assert (event.type, event.source) == ("officer_status_changed", "console:siti")


async def test_todays_returned_transfers_name_their_officer(desk: Desk) -> None:
    async with browser() as client:
        await login(client, desk.base, "siti")
        async with client.get(f"{desk.base}/officers?lang=en") as response:
            page = await response.text()
    assert 'id="returned-count">(1)' in page
    row = page[page.index('data-returned-from="2201"'):]
    assert re.search(r"\(2201\)</td>\s*<td class=\"wide\">Answered by Reception 101", row)


async def test_bad_requests_change_nothing(desk: Desk) -> None:
    async with browser() as client:
        _status, page = await login(client, desk.base, "siti")
        token = csrf_token(page)
        for path, status, expected in (("/officers/2101/status", "away", 400),
                                       ("/officers/9999/status", "out", 404)):
            async with client.post(f"{desk.base}{path}", data={
                    "csrf_token": token, "status": status}) as response:
                assert response.status == expected
    assert desk.astdb == {}


async def test_an_auditor_cannot_see_or_set_officers(desk: Desk) -> None:
    async with browser() as client:
        _status, page = await login(client, desk.base, "aziz")
        assert 'href="/officers"' not in page
        async with client.get(f"{desk.base}/officers") as response:
            assert response.status == 403
        async with client.post(f"{desk.base}/officers/2101/status", data={
                "csrf_token": csrf_token(page), "status": "out"}) as response:
            assert response.status == 403
    assert desk.astdb == {}


async def test_without_ami_the_page_says_so_and_shows_the_directory(desk: Desk) -> None:
    await desk.ami.close()
    async with browser() as client:
        await login(client, desk.base, "siti")
        async with client.get(f"{desk.base}/officers") as response:
            page = await response.text()
        assert 'id="ami-error"' in page
        assert 'data-officer="2101" data-status="in"' in page
        async with client.post(f"{desk.base}/officers/2101/status", data={
                "csrf_token": csrf_token(page), "status": "out"}) as response:
            assert response.status == 502
            assert "the PBX did not take it" in await response.text()
