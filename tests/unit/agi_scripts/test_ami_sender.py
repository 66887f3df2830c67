"""The AMI sender: the outbox goes out as UserEvent actions in order, each file deleted only when
the monitor acknowledges it as stored (`Response: Success` is not enough: Asterisk keeps nothing
for a monitor that is not logged in); unacknowledged events go again after a timeout that
doubles, in order, and at once when the monitor logs in; a refused action or a lost connection
keeps the files and retries; and the agi-server's choice of transport (MQTT when
CALLSLA_MQTT_URL is set, else AMI)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agi_scripts.ami_sender import AmiSender
from agi_scripts.awaiting_ack import AwaitingAck
from agi_scripts.cli import event_sender, send_stored_events
from agi_scripts.outbox import MqttSender, Outbox, send_until_empty
from monitor.ami import AmiError, AmiMessage, KeptAmiConnection
from monitor.core.acks_on_ami import ack_fields, resend_request_fields
from monitor.core.events import CallerChoice, parse_event
from monitor.core.events_on_ami import payload_from_userevent
from monitor.core.settings import settings_from_sources
from tests.support.fake_ami import FakeAmi


class FakeAmiActions:
    """What the sender needs of AMI; answers UserEvent with `reply` and records the fields.
    While `monitor_up`, a monitor of `pbx` acknowledges each event as it goes (before the
    action's response, as a fast monitor's UserEvent can overtake it)."""

    def __init__(self, *, monitor_up: bool = True, pbx: str = "hq") -> None:
        self.connected = True
        self.logins = 1
        self.reply = "Success"
        self.monitor_up = monitor_up
        self.pbx = pbx
        self.sent: list[dict[str, str]] = []
        self.listeners: list[Callable[[AmiMessage], None]] = []

    def listen(self, listener: Callable[[AmiMessage], None]) -> None:
        self.listeners.append(listener)

    def deliver(self, fields: dict[str, str]) -> None:
        """A UserEvent as Asterisk hands it to the sender's session."""
        message = AmiMessage({"event": "UserEvent", **{k.lower(): v for k, v in fields.items()}})
        for listener in self.listeners:
            listener(message)

    async def action(self, name: str, *, timeout: float = 10.0, **fields: str) -> AmiMessage:
        if not self.connected:
            raise AmiError("AMI is not connected")
        assert name == "UserEvent"
        if self.reply != "Success":
            return AmiMessage({"response": "Error", "message": self.reply})
        self.sent.append({k.lower(): v for k, v in fields.items()})
        if self.monitor_up:
            for ack in ack_fields(self.pbx, [fields["EventID"]]):
                self.deliver(ack)
        return AmiMessage({"response": "Success", "message": "Event Sent"})

    async def close(self) -> None:
        return None


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def choices(outbox: Outbox, count: int) -> list[CallerChoice]:
    events = [CallerChoice(pbx="hq", timestamp=datetime.now(UTC), call_id=str(n),
                           uniqueid=str(n), choice="1", where="waiting") for n in range(count)]
    for event in events:
        outbox.put(event)
    return events


async def test_events_are_sent_in_order_and_deleted_after_success(tmp_path: Path) -> None:
    outbox, ami = Outbox(tmp_path / "outbox"), FakeAmiActions()
    events = choices(outbox, 3)
    sender = AmiSender(outbox, ami, pbx="hq", retry_seconds=0.01)
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
    sender = AmiSender(outbox, ami, pbx="hq", retry_seconds=0.01)
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


async def wait_sent(ami: FakeAmiActions, count: int) -> None:
    async with asyncio.timeout(5):
        while len(ami.sent) < count:  # noqa: ASYNC110 - the fake has nothing to wait on
            await asyncio.sleep(0.01)


def ids(ami: FakeAmiActions) -> list[str]:
    return [f["eventid"] for f in ami.sent]


@contextlib.asynccontextmanager
async def running(sender: AmiSender) -> AsyncIterator[None]:
    task = asyncio.create_task(sender.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_file_stays_until_the_monitor_acknowledges_it(tmp_path: Path) -> None:
    outbox, ami = Outbox(tmp_path / "outbox"), FakeAmiActions(monitor_up=False)
    events = choices(outbox, 2)
    sender = AmiSender(outbox, ami, pbx="hq", retry_seconds=0.01)
    async with running(sender):
        await wait_sent(ami, 2)
        await asyncio.sleep(0.1)
        assert len(outbox.pending()) == 2, "Response: Success alone deletes nothing"
        assert ids(ami) == [e.event_id for e in events], "sent once each, in order"
        ami.deliver(ack_fields("elsewhere", [events[0].event_id])[0])  # another PBX's monitor
        assert len(outbox.pending()) == 2
        ami.deliver(ack_fields("hq", [events[0].event_id])[0])
        assert [p.name for p in outbox.pending()] == [
            p.name for p in outbox.pending() if events[1].event_id in p.name]
        assert sender.sent == 1
        ami.deliver(ack_fields("hq", [e.event_id for e in events])[0])  # one ack, a batch
        assert outbox.pending() == []
        assert sender.sent == 2


async def test_unacknowledged_events_go_again_in_order_after_a_doubling_timeout(
        tmp_path: Path) -> None:
    outbox, ami, clock = Outbox(tmp_path / "outbox"), FakeAmiActions(monitor_up=False), FakeClock()
    events = [e.event_id for e in choices(outbox, 3)]
    sender = AmiSender(outbox, ami, pbx="hq", retry_seconds=0.01,
                       awaiting=AwaitingAck(first_timeout=10, max_timeout=40, clock=clock))
    async with running(sender):
        await wait_sent(ami, 3)
        for wait in (10, 20, 40, 40):  # doubling while nothing is acknowledged, up to 40 s
            before = len(ami.sent)
            clock.now += wait - 0.5  # binary fractions: the sums are exact
            outbox.wake.set()
            await asyncio.sleep(0.1)
            assert len(ami.sent) == before, f"not before {wait} s"
            clock.now += 0.5
            outbox.wake.set()
            await wait_sent(ami, before + 3)
            assert ids(ami)[before:] == events, "resent in order"
        ami.monitor_up = True  # the monitor is back: the next resend is acknowledged
        clock.now += 40
        outbox.wake.set()
        async with asyncio.timeout(5):
            while outbox.pending():  # noqa: ASYNC110 - a folder has nothing to wait on
                await asyncio.sleep(0.01)
    assert sender.sent == 3


async def test_a_monitor_that_logs_in_gets_every_waiting_event_at_once_in_order(
        tmp_path: Path) -> None:
    outbox, ami, clock = Outbox(tmp_path / "outbox"), FakeAmiActions(monitor_up=False), FakeClock()
    events = [e.event_id for e in choices(outbox, 3)]
    sender = AmiSender(outbox, ami, pbx="hq", retry_seconds=0.01,
                       awaiting=AwaitingAck(first_timeout=10, clock=clock))
    async with running(sender):
        await wait_sent(ami, 3)
        ami.monitor_up = True
        ami.deliver(resend_request_fields("elsewhere"))  # not this PBX's monitor
        await asyncio.sleep(0.1)
        assert len(ami.sent) == 3
        ami.deliver(resend_request_fields("hq"))  # no time has passed on the clock
        await wait_sent(ami, 6)
        assert ids(ami)[3:] == events
        assert outbox.pending() == []


async def test_a_new_login_of_its_own_sends_again_what_was_not_acknowledged(
        tmp_path: Path) -> None:
    """An acknowledgement that came while the sender's connection was down is lost."""
    outbox, ami, clock = Outbox(tmp_path / "outbox"), FakeAmiActions(monitor_up=False), FakeClock()
    events = [e.event_id for e in choices(outbox, 2)]
    sender = AmiSender(outbox, ami, pbx="hq", retry_seconds=0.01,
                       awaiting=AwaitingAck(first_timeout=10, clock=clock))
    async with running(sender):
        await wait_sent(ami, 2)
        ami.monitor_up, ami.logins = True, 2
        outbox.wake.set()
        await wait_sent(ami, 4)
        assert ids(ami)[2:] == events
        assert outbox.pending() == []


async def test_an_unreadable_or_oversized_event_is_set_aside_not_lost(tmp_path: Path) -> None:
    outbox, ami = Outbox(tmp_path / "outbox"), FakeAmiActions()
    (outbox.folder / "00000000000000000001-broken.json").write_text("{not json")
    (oversized,) = choices(outbox, 1)
    (path,) = [p for p in outbox.pending() if oversized.event_id in p.name]
    path.write_text(path.read_text().replace('"where": "', '"where": "' + "w" * 80_000))
    good = choices(outbox, 1)
    assert await send_until_empty(outbox, AmiSender(outbox, ami, pbx="hq"), timeout=5) == (1, 0)
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
    sent_ids: list[str] = []

    def event_sent_and_stored(action: dict[str, str]) -> list[dict[str, str]]:
        """Asterisk's answer, and the monitor's acknowledgement on the same session."""
        sent_ids.append(action["EventID"])
        return [{"Response": "Success", "Message": "Event Sent"},
                {"Event": "UserEvent", **ack_fields("hq", [action["EventID"]])[0]}]

    server.handlers["UserEvent"] = event_sent_and_stored
    try:
        outbox = Outbox(tmp_path / "outbox")
        events = choices(outbox, 2)
        args = settings(monkeypatch, CALLSLA_AMI_URL=f"tcp://{server.username}:{server.secret}"
                        f"@127.0.0.1:{server.port}", CALLSLA_PBX="hq")
        args.outbox = str(outbox.folder)
        assert await send_stored_events(args, timeout=10) == 0
        assert capsys.readouterr().out == "2 events sent\n"
        sent = [{k.lower(): v for k, v in a.items()} for a in server.actions_named("UserEvent")]
        assert [parse_event(payload_from_userevent(f)) for f in sent] == events
        assert outbox.pending() == []
        assert sent_ids == [e.event_id for e in events]
        assert server.actions_named("Login")[0]["Events"] == "user", "the acks' class only"
    finally:
        await server.close()
