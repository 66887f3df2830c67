"""The supervisor's live page over HTTP against a fake AMI: callers waiting with their wait,
every person's state, today's rings per person; only supervisors and admins see it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.core.directory import status_key
from monitor.core.records import CallLeg, LegKind, PersonRing, RingResult
from tests.support.console_session import browser, login
from tests.unit.monitor.live.console.conftest import Desk


async def _live(desk: Desk, user: str) -> tuple[int, Any]:
    async with browser() as client:
        await login(client, desk.base, user)
        async with client.get(f"{desk.base}/live.json", allow_redirects=False) as response:
            return response.status, (await response.json() if response.status == 200 else None)


async def test_a_supervisor_sees_waiting_callers_states_and_todays_figures(desk: Desk) -> None:
    now = datetime.now(UTC)
    desk.waiting = [
        CallLeg(pbx="unit", call_id="w1", leg_id="w1", kind=LegKind.FRONT_DESK,
                offered_at=now - timedelta(seconds=42), caller_number="0111111111",
                queue="frontdesk"),
        CallLeg(pbx="unit", call_id="w2", leg_id="w2", kind=LegKind.TRANSFER,
                offered_at=now - timedelta(seconds=7), caller_number="0122222222",
                officer="2101")]
    desk.astdb[status_key("2201")] = "out"
    desk.store.save_rings([PersonRing("unit", "leg-4-front_desk", "r1", "Reception 101",
                                      RingResult.ANSWERED, now, 4.0),
                           PersonRing("unit", "leg-3-front_desk", "r2", "Reception 101",
                                      RingResult.NOT_ANSWERED, now)])
    status, live = await _live(desk, "sara")
    assert status == 200
    assert [(w["line"], w["where"], w["caller_number"]) for w in live["waiting"]] == [
        ("queue", "frontdesk", "0111111111"), ("officer", "2101", "0122222222")]
    assert 41 <= live["waiting"][0]["waited_seconds"] <= 45
    assert live["waiting"][1]["officer_name"]
    states = {p["person"]: p["state"] for p in live["people"]}
    assert {k: states[k] for k in ("Reception 101", "Reception 102", "Reception 103", "2101",
                                   "2201", "2102")} == {
        "Reception 101": "free", "Reception 102": "ringing", "Reception 103": "paused",
        "2101": "on_call", "2201": "paused", "2102": "unregistered"}
    [r101] = [p for p in live["people"] if p["person"] == "Reception 101"]
    assert (r101["rung"], r101["answered"], r101["not_answered"], r101["within"]) == (2, 1, 1, 1)
    assert live["error"] == ""


async def test_a_help_desk_user_or_an_auditor_cannot_see_the_live_page(desk: Desk) -> None:
    for user in ("siti", "aziz"):
        status, _ = await _live(desk, user)
        assert status == 403
        async with browser() as client:
            _status, page = await login(client, desk.base, user)
            assert 'href="/live"' not in page
            async with client.get(f"{desk.base}/live") as response:
                assert response.status == 403
    status, _ = await _live(desk, "root")
    assert status == 200
    async with browser() as client:
        await login(client, desk.base, "root")
        async with client.get(f"{desk.base}/live?lang=en") as response:
            assert response.status == 200
            assert "Within 10 s" in await response.text()  # the charter's standard


async def test_without_ami_the_waiting_callers_still_show(desk: Desk) -> None:
    await desk.ami.close()
    desk.waiting = [CallLeg(pbx="unit", call_id="w1", leg_id="w1", kind=LegKind.FRONT_DESK,
                            offered_at=datetime.now(UTC), caller_number="0111111111",
                            queue="frontdesk")]
    status, live = await _live(desk, "sara")
    assert status == 200
    assert len(live["waiting"]) == 1
    assert "cannot reach AMI" in live["error"]
