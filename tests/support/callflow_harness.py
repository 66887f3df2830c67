"""What the call-flow lab tests run: the FastAGI server in-process, an AMI event log, and an MQTT
subscriber that stays subscribed (persistent session) across a broker restart."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiomqtt

from agi_scripts.flows import CallFlows, FlowSettings
from agi_scripts.interrupter import PromptInterrupter
from agi_scripts.outbox import MqttSender, Outbox
from agi_scripts.server import FastAgiServer
from lab import Lab
from lab.config import LabConfig
from monitor.ami import AmiClient, AmiError, AmiMessage
from monitor.ami.officer_status import set_officer_status
from monitor.core.charter import load_charter
from monitor.core.directory import OfficerStatus
from monitor.core.events import CallEvent, subscription
from monitor.core.settings import AMI_SCHEMES, MQTT_SCHEMES, parse_endpoint


class RecordingOutbox(Outbox):
    """The real outbox, also remembering every event id it was given."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.put_ids: list[str] = []
        self.put_events: list[CallEvent] = []

    def put(self, event: CallEvent) -> Path:
        self.put_ids.append(event.event_id)
        self.put_events.append(event)
        return super().put(event)


class LogRecords(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@dataclass
class AmiLog:
    """Every AMI event seen, in order, with a way to wait for one."""

    ami: AmiClient
    events: list[AmiMessage] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        async for event in self.ami.events():
            self.events.append(event)
            self.changed.set()

    async def wait_for(self, match: Callable[[AmiMessage], bool], timeout: float,
                       what: str, *, start: int = 0) -> AmiMessage:
        """The first event from index `start` on that matches (waiting up to `timeout` s)."""
        seen = start
        async with asyncio.timeout(timeout):
            while True:
                for event in self.events[seen:]:
                    if match(event):
                        return event
                seen = len(self.events)
                self.changed.clear()
                await self.changed.wait()
        raise AssertionError(what)  # pragma: no cover - timeout raises first

    async def wait_count(self, match: Callable[[AmiMessage], bool], count: int,
                         timeout: float, what: str) -> None:
        """Wait until `count` events have matched (each event is looked at once)."""
        seen = found = 0
        async with asyncio.timeout(timeout):
            while True:
                found += sum(1 for event in self.events[seen:] if match(event))
                if found >= count:
                    return
                seen = len(self.events)
                self.changed.clear()
                await self.changed.wait()

    def select(self, match: Callable[[AmiMessage], bool]) -> list[AmiMessage]:
        return [e for e in self.events if match(e)]


@dataclass
class MqttLog:
    """Payloads received on callsla/lab/events/#, duplicates kept, with QoS 1 and a session
    that survives the broker's restart (clean_session off, same client id). Logs in as the
    lab's harness user (the monitor's own user could read these too)."""

    config: LabConfig
    received: list[dict[str, object]] = field(default_factory=list)
    connected: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        # A session left by an earlier run (the lab's broker persists) would replay old events.
        login = {"username": self.config.mqtt_user, "password": self.config.ami_secret}
        port = self.config.ports.mqtt
        async with aiomqtt.Client("127.0.0.1", port, identifier="callflows-test",
                                  clean_session=True, **login):
            pass
        while True:
            try:
                async with aiomqtt.Client("127.0.0.1", port, identifier="callflows-test",
                                          clean_session=False, **login) as client:
                    await client.subscribe(subscription("lab"), qos=1)
                    self.connected.set()
                    async for message in client.messages:
                        assert isinstance(message.payload, bytes)
                        self.received.append(json.loads(message.payload))
            except aiomqtt.MqttError:
                self.connected.clear()
                await asyncio.sleep(0.5)

    def of_type(self, kind: str) -> list[dict[str, object]]:
        return [p for p in self.received if p["type"] == kind]


@dataclass
class CallFlowRig:
    lab: Lab
    flows: CallFlows
    outbox: RecordingOutbox
    server: FastAgiServer
    sender: MqttSender
    ami: AmiClient
    log: AmiLog
    mqtt: MqttLog
    logs: LogRecords
    directory_file: Path
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def spool(self) -> Path:
        assert self.lab.pbx is not None
        return self.lab.pbx.spool_dir / "voicemail"

    async def setvar(self, name: str, value: str) -> None:
        reply = await self.ami.action("Setvar", Variable=name, Value=value)
        assert reply.succeeded, reply

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.server.close()
        await self.ami.close()
        if self.flows.interrupter.ami is not None:
            await self.flows.interrupter.ami.close()


async def start_rig(lab: Lab, work: Path) -> CallFlowRig:
    config = lab.config
    assert lab.pbx is not None
    directory_file = work / "officers.toml"
    directory_file.write_bytes((Path(__file__).parents[2] / "asterisk_conf/officers.toml")
                               .read_bytes())
    outbox = RecordingOutbox(work / "outbox")
    # The call flows with the agi-server's own least-rights users, as a site runs them.
    flows_ami = AmiClient.from_endpoint(parse_endpoint(
        "agi", config.part_ami_url("agi"), schemes=AMI_SCHEMES), events=False)
    await flows_ami.connect()
    flows = CallFlows(FlowSettings(pbx="lab", charter=load_charter(),
                                   directory_file=directory_file,
                                   voicemail_spool=lab.pbx.spool_dir / "voicemail"), outbox,
                      interrupter=PromptInterrupter(flows_ami))
    server = FastAgiServer({"officer_call": flows.officer_call}, port=config.ports.fastagi)
    await server.start()
    sender = MqttSender(outbox, parse_endpoint("mqtt", config.part_mqtt_url("agi"),
                                               schemes=MQTT_SCHEMES),
                        client_id="callflows-agi", retry_seconds=0.5)
    ami = AmiClient(port=config.ports.ami, username=config.ami_user, secret=config.ami_secret)
    await ami.connect()
    logs = LogRecords()
    logging.getLogger("agi_scripts").addHandler(logs)
    rig = CallFlowRig(lab=lab, flows=flows, outbox=outbox, server=server, sender=sender, ami=ami,
                      log=AmiLog(ami), mqtt=MqttLog(config), logs=logs,
                      directory_file=directory_file)
    rig.tasks = [asyncio.create_task(coro) for coro in
                 (rig.log.run(), rig.mqtt.run(), sender.run())]
    async with asyncio.timeout(10):
        await rig.mqtt.connected.wait()
    return rig


def device_state(device: str, state: str) -> Callable[[AmiMessage], bool]:
    """A DeviceStateChange of `device` (e.g. PJSIP/2101) to `state` (INUSE, NOT_INUSE)."""
    return lambda e: (e.event == "DeviceStateChange" and e.get("device") == device
                      and e.get("state") == state)


async def hold_phone_busy(rig: CallFlowRig, device: str) -> None:
    """Put `device`'s phone on another call: one no flow put through (as a call from outside
    our scripts), held until `end_held_call` (a SIPp phone cannot be told to hang up)."""
    start = len(rig.log.events)
    reply = await rig.ami.action("Originate", Channel=device, Context="lab-caller",
                                 Exten="wait", Priority="1", Variable="PATIENCE=600",
                                 Timeout="10000", Async="true")
    assert reply.succeeded, reply
    await rig.log.wait_for(device_state(device, "INUSE"), 15, f"{device} on its other call",
                           start=start)


async def end_held_call(rig: CallFlowRig, device: str) -> float:
    """Hang up `device`'s call; returns when the PBX had it free (AMI time)."""
    start = len(rig.log.events)
    reply = await rig.ami.action("Hangup", Channel=f"/^{device}-/")
    assert reply.succeeded, reply
    change = await rig.log.wait_for(device_state(device, "NOT_INUSE"), 10, f"{device} free",
                                    start=start)
    return ami_time(change)


def ami_time(event: AmiMessage) -> float:
    """Asterisk's own clock (manager.conf timestampevents=yes)."""
    return float(event["timestamp"])


def is_exec(event: AmiMessage, caller: str, needle: str) -> bool:
    return (event.event == "AGIExecStart" and event.get("calleridnum") == caller
            and needle in event.get("command", ""))


async def drain(rig: CallFlowRig, timeout: float = 20.0) -> None:
    """Wait until the outbox is empty and every event put has reached the subscriber."""
    async with asyncio.timeout(timeout):
        while rig.outbox.pending() or not set(rig.outbox.put_ids) <= {  # noqa: ASYNC110
                str(p["event_id"]) for p in rig.mqtt.received}:
            await asyncio.sleep(0.2)  # polls a folder and a list: nothing to wait on
    with contextlib.suppress(TimeoutError):
        await asyncio.sleep(0.5)  # a late duplicate would show up here


@contextlib.asynccontextmanager
async def rig_leaving_officer_in(lab: Lab, work: Path, officer: str) -> AsyncIterator[CallFlowRig]:
    """A rig for a test that sets `officer` out: back in the office afterwards, for later
    modules (AstDB may be busy for a moment)."""
    await asyncio.to_thread(work.mkdir)
    rig = await start_rig(lab, work)
    try:
        yield rig
    finally:
        for _attempt in range(10):
            try:
                await set_officer_status(rig.ami, officer, OfficerStatus.IN)
                break
            except AmiError:
                await asyncio.sleep(0.5)
        await rig.close()
