"""The ring-back page over HTTP: one line per caller, a ring-back recorded once, bad input
refused with nothing stored, and who may see and act on it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from tests.support.console_session import browser, csrf_token, login
from tests.unit.monitor.live.console.conftest import LATER, REPEATER, Desk


def _form(page: str, number: str) -> dict[str, str]:
    card = page[page.index(f'data-caller="{number}"'):]
    ring_back_id = re.search(r'name="ring_back_id" value="([0-9a-f]+)"', card)
    assert ring_back_id
    return {"csrf_token": csrf_token(page), "caller_number": number,
            "ring_back_id": ring_back_id.group(1)}


async def test_each_caller_is_one_line_and_a_ring_back_marks_it_done(desk: Desk) -> None:
    async with browser() as client:
        await login(client, desk.base, "siti")
        async with client.get(f"{desk.base}/ringbacks?lang=en") as response:
            page = await response.text()
        assert page.count(f'data-caller="{REPEATER}"') == 1
        assert re.search(rf'data-caller="{REPEATER}" data-state="to_ring_back" data-tries="2"',
                         page)
        assert f'data-caller="{LATER}" data-state="got_through"' in page
        assert "0177777777" not in page  # returned, then answered: served
        form = {**_form(page, REPEATER), "outcome": "reached", "note": "Licence renewed"}
        for _ in range(2):  # the same form sent twice
            async with client.post(f"{desk.base}/ringbacks", data=form) as response:
                assert response.status == 200
                done = await response.text()
        assert 'id="saved-notice"' in done
        assert f'data-caller="{REPEATER}" data-state="done"' in done
    [kept] = desk.store.ring_backs_between(datetime.now(UTC) - timedelta(hours=1),
                                           datetime.now(UTC) + timedelta(minutes=1))
    assert (kept.caller_number, kept.outcome.value, kept.rung_by, kept.note) == (
        REPEATER, "reached", "siti", "Licence renewed")


async def test_bad_input_is_refused_and_nothing_is_stored(desk: Desk) -> None:
    async with browser() as client:
        await login(client, desk.base, "siti")
        async with client.get(f"{desk.base}/ringbacks") as response:
            form = _form(await response.text(), REPEATER)
        for bad, says in (({"outcome": "shouted"}, "outcome must be one of"),
                          ({"outcome": "reached", "caller_number": "0100000000"},
                           "missed no call today"),
                          ({"outcome": "reached", "ring_back_id": "x"}, "ring-back id"),
                          ({"outcome": "reached", "note": "x" * 501}, "over 500")):
            async with client.post(f"{desk.base}/ringbacks", data={**form, **bad}) as response:
                assert response.status == 400
                assert says in await response.text()
    assert desk.store.ring_backs_between(datetime(2000, 1, 1, tzinfo=UTC),
                                         datetime.now(UTC) + timedelta(minutes=1)) == []


async def test_an_auditor_reads_the_list_but_cannot_record(desk: Desk) -> None:
    async with browser() as client:
        await login(client, desk.base, "aziz")
        async with client.get(f"{desk.base}/ringbacks") as response:
            page = await response.text()
        assert f'data-caller="{REPEATER}"' in page
        assert "ring_back_id" not in page  # no form to record with
        form = {"csrf_token": csrf_token(page), "caller_number": REPEATER,
                "ring_back_id": "0" * 32, "outcome": "reached"}
        async with client.post(f"{desk.base}/ringbacks", data=form) as response:
            assert response.status == 403
    assert desk.store.ring_backs_between(datetime(2000, 1, 1, tzinfo=UTC),
                                         datetime.now(UTC) + timedelta(minutes=1)) == []
