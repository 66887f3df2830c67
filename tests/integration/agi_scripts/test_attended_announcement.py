"""T-e on an attended transfer, heard by the caller: while receptionist 101 consults officer
2101 (REFER with Replaces from the phone) or 2102 (features.conf `*2`), the caller 101 holds
hears the officer's name, department and extension, found in the RTP the caller's SIP phone
received, before the officer's phone is rung (the officer's `DialBegin`, the PBX's INVITE).

The announcement is whispered over the music on hold (agi_scripts/held_caller.py), so it is
found with a lower correlation than a prompt played alone: measured 0.78-0.90 where whispered,
against 0.998 for a prompt played alone and at most 0.33 for a prompt not played.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lab import Lab
from lab.sip.heard import PromptHearing
from lab.sip.phones import sip_phones
from monitor.ami import AmiMessage
from tests.support import sip_traces
from tests.support.callflow_harness import start_rig

pytestmark = pytest.mark.lab

WHISPERED = 0.6  # see the module docstring
PATHS = [
    pytest.param("g2_dtmf_attended", "2102", id="features-atxfer"),
    pytest.param("f_attended_refer", "2101", id="refer-replaces", marks=pytest.mark.xfail(
        strict=True, reason=(
            "open: the whisper starts (ChanSpyStart) and the officer's name is heard (0.84), "
            "but the caller's SIPp receives no RTP from 3 s into the announcement until after "
            "2101 rings, so the department and extension are not in its recording; not yet "
            "known whether the PBX or the lab's REFER scenario stops the media"))),
]


@pytest.mark.parametrize(("path", "officer"), PATHS)
async def test_the_held_caller_hears_the_officer_before_the_officer_rings(
        lab: Lab, tmp_path: Path, path: str, officer: str) -> None:
    assert lab.pbx is not None
    rig = await start_rig(lab, tmp_path)
    try:
        async with sip_phones(lab) as phones:
            await sip_traces.PATHS[path](phones, rig)
            [caller] = phones.callers
            await caller.finished(90)
            heard = caller.heard()

        def officer_rung(e: AmiMessage) -> bool:
            return (e.event == "DialBegin"
                    and e.get("destchannel", "").startswith(f"PJSIP/{officer}-"))
        rung = float((await rig.log.wait_for(officer_rung, 5, "the officer's INVITE"))
                     ["timestamp"])
    finally:
        await rig.close()
    prompts = PromptHearing(lab.pbx.prompts_dir)
    department = "finance"  # 2101 and 2102, asterisk_conf/officers.toml
    # The trunk's line (1000) is English in the lab; the receptionist hears the officer's.
    said = [f"en/officer-{officer}", f"en/dept-{department}", "en/extension"]
    found = {name: heard.find(prompts.prompt(name), match=WHISPERED) for name in said}
    assert all(len(times) == 1 for times in found.values()), found
    starts = [found[name][0] for name in said]
    assert starts == sorted(starts), found  # in the announcement's order
    assert starts[-1] < rung, (found, rung)
