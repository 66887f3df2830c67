"""The parts' AMI users (lab/asterisk_local/manager-users.conf, as the skeleton gives a site):
Asterisk 22 itself refuses each the actions that would let a leaked secret run anything
(Originate, Command), and grants each the actions its part sends."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from lab import Lab
from monitor.ami import AmiClient, AmiMessage
from monitor.cli.main import main
from monitor.core.settings import AMI_SCHEMES, parse_endpoint

PARTS = ("monitor", "agi", "officer")
# What each part sends (grep `.action(` in monitor/, agi_scripts/), and must keep being allowed.
NEEDED = {
    "monitor": [("QueueSummary", {}), ("QueueStatus", {}), ("CoreShowChannels", {})],
    "agi": [("Getvar", {"Variable": "DEVICE_STATE(PJSIP/2101)"}),
            ("ControlPlayback", {"Channel": "PJSIP/none-00000000", "Control": "stop"})],
    "officer": [("DBPut", {"Family": "callsla-test", "Key": "k", "Val": "v"}),
                ("DBGet", {"Family": "callsla-test", "Key": "k"})],
}
FORBIDDEN = [
    ("Originate", {"Channel": "Local/s@default", "Application": "System", "Data": "id"}),
    ("Command", {"Command": "core show version"}),
    ("Setvar", {"Variable": "CALLSLA_FORGED", "Value": "1"}),
]


async def _replies(lab: Lab, part: str,
                   actions: list[tuple[str, dict[str, str]]]) -> dict[str, AmiMessage]:
    endpoint = parse_endpoint("ami", lab.config.part_ami_url(part), schemes=AMI_SCHEMES)
    async with AmiClient.from_endpoint(endpoint, events=False) as ami:
        return {name: await ami.action(name, **fields) for name, fields in actions}


@pytest.mark.parametrize("part", PARTS)
async def test_ami_refuses_each_part_originate_and_command(lab: Lab, part: str) -> None:
    replies = await _replies(lab, part, FORBIDDEN)
    for name, reply in replies.items():
        if part == "agi" and name == "Setvar":  # `call`, the class ControlPlayback needs too
            continue
        assert (reply.get("response"), reply.get("message")) == ("Error", "Permission denied"), \
            f"{part} may {name}: {dict(reply)}"


@pytest.mark.parametrize("part", PARTS)
async def test_each_part_may_send_what_it_needs(lab: Lab, part: str) -> None:
    replies = await _replies(lab, part, NEEDED[part])
    for name, reply in replies.items():
        assert reply.get("message") != "Permission denied", f"{part} refused {name}"


async def test_officer_command_works_with_its_own_user(
        lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("CALLSLA_AMI_URL", raising=False)
    monkeypatch.setenv("CALLSLA_OFFICER_AMI_URL", lab.config.part_ami_url("officer"))
    monkeypatch.setenv("CALLSLA_OUTBOX", str(tmp_path / "outbox"))
    try:
        assert await asyncio.to_thread(main, ["officer", "set-status", "2301", "leave"]) == 0
        assert await asyncio.to_thread(main, ["officer", "list"]) == 0
        listing = capsys.readouterr().out
        assert any(line.split()[:2] == ["2301", "leave"] for line in listing.splitlines()), \
            listing
    finally:
        assert await asyncio.to_thread(main, ["officer", "set-status", "2301", "in"]) == 0
