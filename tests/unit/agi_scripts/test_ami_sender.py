"""The AMI sender: the outbox goes out as UserEvent actions in order, each file deleted only after
`Response: Success`; a refused action or a lost connection keeps the files and retries; and the
agi-server's choice of transport (MQTT when CALLSLA_MQTT_URL is set, else AMI)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agi_scripts.ami_sender import AmiSender
from agi_scripts.cli import event_sender, send_stored_events
from agi_scripts.outbox import MqttSender, Outbox, send_until_empty
from monitor.ami import AmiError, AmiMessage, KeptAmiConnection
from monitor.core.events import CallerChoice, parse_event
from monitor.core.events_on_ami import payload_from_userevent
from monitor.core.settings import settings_from_sources
from tests.support.fake_ami import FakeAmi


class FakeAmiActions:
    """What the sender needs of AMI; answers UserEvent with `reply` and records the fields."""

    def __init__(self) -> None:
        self.connected = True
        self.reply = "Success"
        self.sent: list[dict[str, str]] = []

    async def action(self, name: str, *, timeout: float = 10.0, **fields: str) -> AmiMessage:
        if not self.connected:
            raise AmiError("AMI is not connected")
        assert name == "UserEvent"
        if self.reply != "Success":
            return AmiMessage({"response": "Error", "message": self.reply})
        self.sent.append({k.lower(): v for k, v in fields.items()})
        return AmiMessage({"response": "Success", "message": "Event Sent"})

    async def close(self) -> None:
        return None


def choices(outbox: Outbox, count: int) -> list[CallerChoice]:
    events = [CallerChoice(pbx="hq", timestamp=datetime.now(UTC), call_id=str(n),
                           uniqueid=str(n), choice="1", where="waiting") for n in range(count)]
    for event in events:
        outbox.put(event)
    return events


async def test_events_are_sent_in_order_and_deleted_after_success(tmp_path: Path) -> None:
    outbox, ami = Outbox(tmp_path / "outbox"), FakeAmiActions()
    events = choices(outbox, 3)
    sender = AmiSender(outbox, ami, retry_seconds=0.01)
    assert await send_until_empty(outbox, sender, timeout=5) == (3, 0)
    assert [parse_event(payload_from_userevent(f)) for f in ami.sent] == events
    assert [f["userevent"] for f in ami.sent] == ["CallSLA"] * 3


@pytest.mark.parametrize("trouble", ["refused", "disconnected"])
async def test_files_wait_while_ami_refuses_or_is_away_then_go(
        tmp_path: Path, trouble: str, caplog: pytest.LogCaptureFixture) -> None:
    outbox, ami = Outbox(tmp_path / "outbox"), FakeAmiActions()
    if trouble == "refused":
        ami.reply = "Permission denied"
    else:
        ami.connected = False
    events = choices(outbox, 2)
    sender = AmiSender(outbox, ami, retry_seconds=0.01)
    task = asyncio.create_task(sender.run())
    try:
        with caplog.at_level(logging.WARNING, "agi_scripts.ami_sender"):
            await asyncio.sleep(0.1)
        assert len(outbox.pending()) == 2
        assert ami.sent == []
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1, "one warning per outage, not one per retry"
        if trouble == "refused":
            assert "write = user" in warnings[0]
        ami.reply, ami.connected = "Success", True
        async with asyncio.timeout(5):
            while outbox.pending():  # noqa: ASYNC110 - a folder has nothing to wait on
                await asyncio.sleep(0.01)
        assert [parse_event(payload_from_userevent(f)) for f in ami.sent] == events
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_an_unreadable_or_oversized_event_is_set_aside_not_lost(tmp_path: Path) -> None:
    outbox, ami = Outbox(tmp_path / "outbox"), FakeAmiActions()
    (outbox.folder / "00000000000000000001-broken.json").write_text("{not json")
    (oversized,) = choices(outbox, 1)
    (path,) = [p for p in outbox.pending() if oversized.event_id in p.name]
    path.write_text(path.read_text().replace('"where": "', '"where": "' + "w" * 80_000))
    good = choices(outbox, 1)
    assert await send_until_empty(outbox, AmiSender(outbox, ami), timeout=5) == (1, 0)
    assert [parse_event(payload_from_userevent(f)) for f in ami.sent] == good
    assert len(list(outbox.folder.glob("*.bad"))) == 2


def settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> argparse.Namespace:
    for name in ("CALLSLA_MQTT_URL", "CALLSLA_AMI_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return argparse.Namespace()


def test_mqtt_when_its_url_is_set_else_ami_else_none(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    outbox = Outbox(tmp_path / "outbox")
    ami_url = "tcp://agi:s@127.0.0.1:5038"
    both = settings_from_sources(settings(monkeypatch, CALLSLA_MQTT_URL="mqtt://127.0.0.1:1883",
                                          CALLSLA_AMI_URL=ami_url))
    assert both.ami is not None
    kept = KeptAmiConnection(both.ami)
    assert isinstance(event_sender(both, outbox, kept, client_id="t"), MqttSender)
    ami_only = settings_from_sources(settings(monkeypatch, CALLSLA_AMI_URL=ami_url))
    assert isinstance(event_sender(ami_only, outbox, kept, client_id="t"), AmiSender)
    neither = settings_from_sources(settings(monkeypatch))
    assert event_sender(neither, outbox, None, client_id="t") is None


async def test_events_send_without_mqtt_sends_the_outbox_as_user_events(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """`callsla events send` (classic-AGI sites, from cron) against an AMI server."""
    server = await FakeAmi().start()
    try:
        outbox = Outbox(tmp_path / "outbox")
        events = choices(outbox, 2)
        args = settings(monkeypatch, CALLSLA_AMI_URL=f"tcp://{server.username}:{server.secret}"
                        f"@127.0.0.1:{server.port}")
        args.outbox = str(outbox.folder)
        assert await send_stored_events(args, timeout=10) == 0
        assert capsys.readouterr().out == "2 events sent\n"
        sent = [{k.lower(): v for k, v in a.items()} for a in server.actions_named("UserEvent")]
        assert [parse_event(payload_from_userevent(f)) for f in sent] == events
        assert outbox.pending() == []
    finally:
        await server.close()
