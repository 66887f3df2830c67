"""Charter T-h end to end: a SIP caller over the trunk, told that the officer is out, leaves a
message; it becomes a voicemail file on the PBX and an open callback in the monitor's store; the
help desk closes it with the action and the date, and the monitor's open-callback gauge
follows."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from lab import Lab
from lab.sip.heard import PromptHearing
from lab.sip.phones import sip_phones
from monitor.ami.officer_status import set_officer_status
from monitor.core.directory import OfficerStatus
from monitor.core.records import CallbackStatus
from monitor.store import open_store
from tests.support.callflow_harness import CallFlowRig, rig_leaving_officer_in
from tests.support.monitor_run import MonitorRun

CALLER = "0345678901"
OFFICER = "2301"


@pytest.fixture
async def rig(lab: Lab, tmp_path: Path) -> AsyncIterator[CallFlowRig]:
    async with rig_leaving_officer_in(lab, tmp_path / "rig", OFFICER) as the_rig:
        yield the_rig


async def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll without blocking the loop: the FastAGI server and MQTT sender run on it."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


def _callsla(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "monitor", *args], capture_output=True,
                          text=True, timeout=60, check=False,
                          env={**os.environ, "CALLSLA_DB_URL": db_url})


async def test_message_becomes_a_callback_that_the_help_desk_closes(
        lab: Lab, rig: CallFlowRig, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path}/callbacks.db"
    run = MonitorRun(lab, db_url, pbx="lab").start()
    try:
        await set_officer_status(rig.ami, OFFICER, OfficerStatus.OUT)
        async with sip_phones(lab) as phones:
            # A caller who talks from the start, so the message has sound in it.
            caller = await phones.call_in(CALLER, name="Puan Aminah", dialled=OFFICER,
                                          patience=15, talks_from=0.0)
            await caller.finished(40)
        assert lab.pbx is not None
        hearing, heard = PromptHearing(lab.pbx.prompts_dir), caller.heard()
        told_out = hearing.times(heard, "ms/officer_out")  # 2301's line: DEFAULT_LANGUAGE ms
        asked = hearing.times(heard, "ms/leave_message")
        assert len(told_out) == len(asked) == 1, (told_out, asked)
        assert told_out[0] < asked[0], "told the officer is out, then asked for a message"

        def stored_callbacks() -> list[object]:
            with open_store(db_url) as store:
                return [c for c in store.callbacks(pbx="lab") if c.caller_number == CALLER]

        await wait_for(lambda: len(stored_callbacks()) == 1, 60, "the callback in the store")
        with open_store(db_url) as store:
            (callback,) = [c for c in store.callbacks(pbx="lab") if c.caller_number == CALLER]
        assert callback.status is CallbackStatus.OPEN
        assert callback.officer == OFFICER
        assert callback.department
        assert callback.caller_name == "Puan Aminah"
        assert callback.matter, "the matter links to the message"
        assert callback.due_at > callback.contacted_at
        messages = list(rig.spool.rglob("msg*.txt"))
        assert any(CALLER in m.read_text(errors="replace") for m in messages), messages
        await wait_for(lambda: run.value("callsla_callbacks_open", pbx="lab") >= 1, 20,
                       "callbacks_open gauge")

        listed = _callsla(db_url, "callbacks", "list", "--status", "open")
        assert listed.returncode == 0, listed.stderr
        assert callback.callback_id in listed.stdout
        closed = _callsla(db_url, "callbacks", "close", callback.callback_id,
                          "--action", "Called back; renewal explained", "--informed")
        assert closed.returncode == 0, closed.stderr

        with open_store(db_url) as store:
            done = store.get_callback("lab", callback.callback_id)
        assert done is not None
        assert done.status is CallbackStatus.CLOSED
        assert done.action_taken == "Called back; renewal explained"
        assert done.done_at is not None
        assert done.done_at >= callback.contacted_at
        assert done.caller_informed_at is not None
        # The broker may also hand this monitor's session other tests' messages for pbx "lab",
        # so the gauge is checked against the store's open callbacks, not against 0.

        def open_in_store() -> int:
            with open_store(db_url) as store:
                return len(store.callbacks(pbx="lab", status=CallbackStatus.OPEN))

        await wait_for(lambda: run.value("callsla_callbacks_open", pbx="lab") == open_in_store(),
                       20, "callbacks_open gauge to follow the close")
    finally:
        run.stop()
