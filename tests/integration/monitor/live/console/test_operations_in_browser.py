"""The help desk, the front desk and a supervisor in headless Chromium against the lab, with
SIP calls placed: one set of calls for the three pages.

- Ring-back: two abandoned calls from one caller are one line (2 tries); marking it rung
  back stores the ring-back and the line is done.
- Officers: one click sets officer 2301 out; AstDB has it, and the next call to 2301 is
  told the officer is out and asked for a message (the call flow's prompts, over FastAGI).
- Live: a supervisor sees the caller still waiting at the front desk, with the wait, and the
  receptionist's phone state; a help-desk user gets 403 for it.
- Auditor: today's export of these calls, masked, then unmasked with a reason; both in the
  export log as the console's auditor.
Screenshots: docs/console-ringback.png, console-officers.png (phone), console-live.png (desk).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lab import Lab
from lab.browser import BrowserTab
from lab.sip.phones import sip_phones
from lab.sip.scenarios import Answer
from monitor.core.accounts import Role
from monitor.live.console.accounts import add_account
from monitor.store import open_store
from tests.support.callflow_harness import CallFlowRig, is_exec, rig_leaving_officer_in
from tests.support.console_session import PASSWORD, post_form_js
from tests.support.monitor_run import MonitorRun

DOCS = Path(__file__).resolve().parents[5] / "docs"
REPEATER, WAITING, TO_OFFICER = "0350000001", "0360000001", "0370000001"
NEVER_ANSWERED = "03[56]0000"  # the receptionist lets these ring
OFFICER = "2301"


@pytest.fixture
async def rig(lab: Lab, tmp_path: Path) -> AsyncIterator[CallFlowRig]:
    async with rig_leaving_officer_in(lab, tmp_path / "rig", OFFICER) as the_rig:
        yield the_rig


async def _log_in(tab: BrowserTab, base: str, user: str, then: str) -> None:
    await tab.goto(f"{base}/login")
    await tab.evaluate(f"""document.getElementById('username').value = '{user}';
        document.getElementById('password').value = '{PASSWORD}';
        document.getElementById('login-form').submit();""")
    await tab.wait_for("location.pathname === '/callbacks'")
    await tab.goto(f"{base}{then}")


async def _until_listed(tab: BrowserTab, url: str, selector: str, timeout: float = 30) -> None:
    """Reload `url` until `selector` is on it (the monitor records a call as it ends)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        await tab.goto(url)
        if await tab.evaluate(f"!!document.querySelector('{selector}')"):
            return
        assert asyncio.get_running_loop().time() < deadline, f"{url} never showed {selector}"
        await asyncio.sleep(0.5)


async def test_ring_back_officers_and_live_pages_on_lab_calls(
        lab: Lab, rig: CallFlowRig, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path}/console.db"
    with open_store(db_url) as store:
        add_account(store, "siti", Role.HELP_DESK, PASSWORD, display_name="Siti Aishah")
        add_account(store, "sara", Role.SUPERVISOR, PASSWORD, display_name="Sarah Lim")
        add_account(store, "aziz", Role.AUDITOR, PASSWORD, display_name="Aziz Rahman")
    run = MonitorRun(lab, db_url, pbx="lab").start()
    base = f"http://127.0.0.1:{run.port}"
    desk = await BrowserTab.open()
    supervisor = await BrowserTab.open(width=1280, height=800)
    auditor = await BrowserTab.open(width=1280, height=800)
    try:
        async with sip_phones(lab) as phones:
            await phones.use_front_desk(["101"])
            await phones.receptionist("101", Answer(after=2, talk=3, ignore=NEVER_ANSWERED),
                                      calls=None).ready_for(0)
            waiting = await phones.call_in(WAITING, name="Encik Tan", patience=120)
            gave_up = [await phones.call_in(REPEATER, name="Puan Aminah", patience=4)
                       for _ in range(2)]
            for caller in gave_up:
                await caller.finished(30)

            # the help desk: one line for the caller who tried twice; rung back, done
            await _log_in(desk, base, "siti", "/ringbacks?lang=ms")
            line = f'[data-caller="{REPEATER}"][data-tries="2"]'
            await _until_listed(desk, f"{base}/ringbacks", line)
            assert await desk.evaluate(
                f"document.querySelectorAll('[data-caller=\"{REPEATER}\"]').length") == 1
            assert await desk.evaluate("fetch('/live.json').then(r => r.status)") == 403
            await desk.evaluate(f"""(() => {{
                const card = document.querySelector('{line}');
                card.querySelector('select').value = 'reached';
                card.querySelector('input[name=note]').value = 'Lesen diperbaharui';
            }})()""")
            await desk.screenshot(DOCS / "console-ringback.png")
            await desk.evaluate(f"document.querySelector('{line} form').requestSubmit()")
            await desk.wait_for(f"document.getElementById('saved-notice') && "
                                f"document.querySelector('{line}').dataset.state === 'done'")

            # the front desk: 2301 out in one click; AstDB has it; the next call hears so
            await desk.goto(f"{base}/officers")
            await desk.evaluate(f"document.querySelector('[data-officer=\"{OFFICER}\"] "
                                "button[data-set=out]').click()")
            await desk.wait_for(f"document.querySelector('[data-officer=\"{OFFICER}\"]')"
                                ".dataset.status === 'out'")
            assert lab.pbx is not None
            assert "Value: out" in lab.pbx.cli(f"database get callsla officer/{OFFICER}/status")
            await desk.screenshot(DOCS / "console-officers.png")
            to_officer = await phones.call_in(TO_OFFICER, dialled=OFFICER, patience=12,
                                              talks_from=0.0)

            # the supervisor: the caller still waiting, with the wait; the receptionist
            await _log_in(supervisor, base, "sara", "/live?lang=en")
            row = f'#waiting tr[data-caller="{WAITING}"]'
            await supervisor.wait_for(f"document.querySelector('{row}')", timeout=15)
            await supervisor.wait_for(
                "document.querySelector('#people tr[data-person=\"Reception 101\"]')")
            waited = await supervisor.evaluate(
                f"Number(document.querySelector('{row} td.wait').dataset.seconds)")
            assert 5 < waited < 120
            # 101 rang for the waiting caller (busy ringing, it was never offered the two who
            # gave up); its 15 s ring time out is today's first ring of 101, not answered
            await supervisor.wait_for("Number(document.querySelector("
                                      "'#people tr[data-person=\"Reception 101\"] td.num')"
                                      ".textContent) >= 1", timeout=20)
            await supervisor.screenshot(DOCS / "console-live.png")
            await supervisor.screenshot(DOCS / "console-live.png")

            await rig.log.wait_for(lambda e: is_exec(e, TO_OFFICER, "officer_out"), 30,
                                   "2301's caller told the officer is out")
            await rig.log.wait_for(lambda e: is_exec(e, TO_OFFICER, "leave_message"), 30,
                                   "2301's caller asked for a message")
            lab.pbx.cli("channel request hangup all")
            await to_officer.finished(20)
            await waiting.finished(20)

        # the auditor: the calls just placed, masked by default, unmasked with a reason
        await _log_in(auditor, base, "aziz", "/auditor")
        await auditor.wait_for("document.getElementById('export-form')")
        masked = await auditor.evaluate(post_form_js("export-form"))
        await auditor.evaluate("""document.getElementById('unmasked').checked = true;
            document.getElementById('reason').value = 'Aduan awam 2026/18';""")
        unmasked = await auditor.evaluate(post_form_js("export-form"))
        await auditor.goto(f"{base}/auditor")
        logged = await auditor.evaluate(
            "[...document.querySelectorAll('.log-entry')].map(r => r.dataset.masked + ' ' + "
            "r.dataset.by)")
    finally:
        await desk.close()
        await supervisor.close()
        await auditor.close()
        run.stop()
    with open_store(db_url) as store:
        [ring_back] = store.ring_backs_between(datetime.now(UTC) - timedelta(hours=1),
                                               datetime.now(UTC) + timedelta(minutes=1))
        changed = store.call_events(datetime.now(UTC) - timedelta(hours=1),
                                    datetime.now(UTC) + timedelta(minutes=1),
                                    event_type="officer_status_changed")
    assert (ring_back.caller_number, ring_back.outcome.value, ring_back.rung_by) == (
        REPEATER, "reached", "siti")
    assert [e.source for e in changed] == ["console:siti"]
    assert (masked["status"], unmasked["status"]) == (200, 200)
    assert not [number for number in (REPEATER, WAITING, TO_OFFICER) if number in masked["text"]]
    assert masked["text"].count("******0001") == len(masked["text"].splitlines()) - 1
    assert unmasked["text"].count(REPEATER) == 2  # the two who gave up
    assert len(unmasked["text"].splitlines()) == len(masked["text"].splitlines())
    assert logged == ["no console:aziz", "yes console:aziz"]  # the newest first
