"""The call flows on the lab's real Asterisk and Mosquitto (issue 3, "What it must show").

One module-scoped run places every scenario's calls at once (the slow one, a caller hearing
five status messages, takes about 100 s) and stops Mosquitto in the middle of it; the tests
then check each promise on what Asterisk's AMI and the MQTT subscriber saw.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import re
import statistics
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from agi_scripts.officer_status import set_officer_status
from lab import Lab
from lab.calls import place_inbound_call, set_phone
from monitor.ami import AmiMessage
from monitor.cli.main import main
from monitor.core.directory import OfficerStatus
from monitor.core.events import parse_event
from monitor.core.metrics import create_call_metrics
from monitor.core.records import CallbackStatus
from monitor.core.settings import parse_endpoint
from monitor.ingest.flow_recorder import record_flow_event
from monitor.ingest.mqtt_feed import MqttFeed
from monitor.ingest.recorder import Recorder
from monitor.store import open_store
from tests.support.callflow_harness import CallFlowRig, ami_time, drain, is_exec, start_rig

BUSY_CALLERS = ("0310000001", "0310000002", "0310000003")
TRANSFERRED = "0320000001"
UNANSWERED = "0330000001"
NEW_AT_DESK = "0330000002"
OUT_OF_OFFICE = "0340000001"
KEYED = "0360000001"
CHOOSER = "0370000001"
HOSTILE_NUMBER = '0312"|;$x'
HOSTILE_NAME = '"x\nEXEC Dial(Local/o2101@lab-phones)'
STATUS_MARK = "/position_is"


@dataclass
class Run:
    rig: CallFlowRig
    freed_at: float = 0.0  # AMI time the busy officer came free
    notes: dict[str, object] = field(default_factory=dict)
    transferred: asyncio.Event = field(default_factory=asyncio.Event)


async def _busy_officer(rig: CallFlowRig, run: Run) -> None:
    """T-f: three callers wait for 2101 (busy); it comes free after caller 1's 5th message."""
    await set_phone(rig.ami, "o2101", answer_after=0.5, talk_for=2)
    await rig.setvar("DEVICE_STATE(Custom:o2101)", "INUSE")
    for caller in BUSY_CALLERS:
        await place_inbound_call(rig.ami, dialled="2101", caller_id=caller, patience=200)
        await asyncio.sleep(1.0)
    first = BUSY_CALLERS[0]
    await rig.log.wait_count(lambda e: is_exec(e, first, STATUS_MARK), 5, 150, "5 messages")
    await rig.log.wait_count(lambda e: is_exec(e, first, "SET MUSIC ON"), 5, 30,
                             "end of the 5th message")
    await asyncio.sleep(1.0)  # between messages: music on hold
    await rig.setvar("DEVICE_STATE(Custom:o2101)", "NOT_INUSE")
    change = await rig.log.wait_for(
        lambda e: e.event == "DeviceStateChange" and e.get("device") == "Custom:o2101"
        and e.get("state") == "NOT_INUSE", 10, "device state change")
    run.freed_at = ami_time(change)
    for caller in BUSY_CALLERS:
        await rig.log.wait_for(lambda e, c=caller: e.event == "DialBegin"
                               and e.get("calleridnum") == c, 60, f"{caller} rung")
    await rig.log.wait_for(lambda e: e.event == "Hangup" and ";2" in e.get("channel", "")
                           and e.get("calleridnum") == BUSY_CALLERS[-1], 30, "last call over")


async def _blind_transfer(rig: CallFlowRig, run: Run) -> None:
    """T-e: a receptionist blind-transfers the caller to 2102; the caller hears who first."""
    for phone in ("r1", "r2", "r3"):
        await set_phone(rig.ami, phone, answer_after=0.5, talk_for=60)
    await set_phone(rig.ami, "o2102", answer_after=1, talk_for=2)
    await place_inbound_call(rig.ami, dialled="1000", caller_id=TRANSFERRED, patience=60)
    connect = await rig.log.wait_for(lambda e: e.event == "AgentConnect"
                                     and e.get("calleridnum") == TRANSFERRED, 20, "answered")
    for _ in range(20):  # AgentConnect comes just before the receptionist joins the bridge
        reply = await rig.ami.action("BlindTransfer", Channel=connect["destchannel"],
                                     Context="internal", Exten="2102")
        if reply.succeeded:
            break
        await asyncio.sleep(0.2)
    assert reply.succeeded, reply
    run.transferred.set()
    await rig.log.wait_for(lambda e: e.event == "DialEnd" and e.get("calleridnum") == TRANSFERRED,
                           60, "transfer rang the officer")


async def _unanswered_transfer(rig: CallFlowRig, run: Run) -> None:
    """T-g: 2201 never answers; the caller returns to the desk ahead of a new caller."""
    await set_phone(rig.ami, "o2201", answer_after=999)
    await place_inbound_call(rig.ami, dialled="2201", caller_id=UNANSWERED, patience=90)
    await run.transferred.wait()
    await asyncio.sleep(2)
    for phone in ("r1", "r2", "r3"):  # every receptionist busy: callers wait in the queue
        await rig.setvar(f"DEVICE_STATE(Custom:{phone})", "INUSE")
    await rig.log.wait_for(lambda e: e.event == "DialBegin" and e.get("calleridnum") == UNANSWERED,
                           30, "officer 2201 rung")
    await place_inbound_call(rig.ami, dialled="1000", caller_id=NEW_AT_DESK, patience=90)
    await rig.log.wait_for(lambda e: e.event == "QueueCallerJoin"
                           and e.get("calleridnum") == NEW_AT_DESK, 10, "new caller queued")
    await rig.log.wait_for(lambda e: e.event == "QueueCallerJoin"
                           and e.get("calleridnum") == UNANSWERED, 40, "returned caller queued")
    for phone in ("r1", "r2", "r3"):
        await set_phone(rig.ami, phone, answer_after=0.5, talk_for=1)
        await rig.setvar(f"DEVICE_STATE(Custom:{phone})", "NOT_INUSE")


async def _out_of_office(rig: CallFlowRig, run: Run) -> None:
    """T-h: 2301 is set out through AstDB (no reload); the caller leaves a message."""
    await set_officer_status(rig.ami, "2301", OfficerStatus.OUT)
    reply = await rig.ami.action(  # a caller who speaks, so the message has sound in it
        "Originate", Channel="Local/2301@from-pstn", Context="lab-caller", Exten="speak",
        Priority="1", CallerID=f'"Lab Caller" <{OUT_OF_OFFICE}>', Variable="PATIENCE=20",
        Async="true")
    assert reply.succeeded, reply
    await rig.log.wait_for(lambda e: e.event == "Hangup" and e.get("calleridnum") == OUT_OF_OFFICE,
                           40, "message caller hung up")
    await set_officer_status(rig.ami, "2301", OfficerStatus.IN)


async def _dial_by_extension(rig: CallFlowRig, run: Run) -> None:
    """The caller picks English (9), then keys extension 2102 on the dial-by-extension line."""
    reply = await rig.ami.action(
        "Originate", Channel="Local/1500@from-pstn", Context="lab-caller", Exten="keys",
        Priority="1", CallerID=f'"Lab Caller" <{KEYED}>',
        Variable="PATIENCE=30\nKEYS=9#wwwwww2102", Async="true")
    assert reply.succeeded, reply
    await rig.log.wait_for(lambda e: is_exec(e, KEYED, "/transfer_to"), 40, "keyed transfer")


async def _caller_chooses_a_message(rig: CallFlowRig, run: Run) -> None:
    """A fourth caller for busy 2101 presses 1 while waiting (about 17 s in), leaves a message."""
    await asyncio.sleep(4)
    reply = await rig.ami.action(
        "Originate", Channel="Local/2101@from-pstn", Context="lab-caller", Exten="keys",
        Priority="1", CallerID=f'"Lab Caller" <{CHOOSER}>',
        Variable="PATIENCE=12\nKEYS=" + "w" * 32 + "1", Async="true")
    assert reply.succeeded, reply
    await rig.log.wait_for(lambda e: e.event == "Hangup" and e.get("calleridnum") == CHOOSER
                           and ";2" in e.get("channel", ""), 60, "chooser hung up")


async def _hostile(rig: CallFlowRig, run: Run) -> None:
    """A caller ID built to break AGI commands, through a transfer and a message."""
    await place_inbound_call(rig.ami, dialled="2202", patience=18, context="lab-hostile")
    await asyncio.sleep(3)
    await place_inbound_call(rig.ami, dialled="2102", patience=40, context="lab-hostile")
    await rig.log.wait_for(lambda e: e.event == "Hangup" and e.get("calleridnum") == HOSTILE_NUMBER
                           and "2102@lab-hostile" in e.get("channel", ""), 60, "hostile call ends")


async def _broker_outage(rig: CallFlowRig, run: Run) -> None:
    """Mosquitto down for 20 s while calls are in progress."""
    await asyncio.sleep(25)
    await asyncio.to_thread(rig.lab.mosquitto.stop)
    run.notes["broker_down_events"] = len(rig.outbox.put_ids)
    await asyncio.sleep(20)
    run.notes["events_while_down"] = len(rig.outbox.put_ids) - int(
        str(run.notes["broker_down_events"]))
    await asyncio.to_thread(rig.lab.mosquitto.start)


@pytest.fixture(scope="module")
async def run(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Run]:
    rig = await start_rig(lab, tmp_path_factory.mktemp("callflows"))
    the_run = Run(rig)
    try:
        async with asyncio.timeout(200):
            await asyncio.gather(*(scenario(rig, the_run) for scenario in (
                _busy_officer, _blind_transfer, _unanswered_transfer, _out_of_office, _hostile,
                _dial_by_extension, _caller_chooses_a_message, _broker_outage)))
        await drain(rig)
        yield the_run
    finally:
        await rig.close()


def _calls(run: Run, caller: str, needle: str) -> list[AmiMessage]:
    return run.rig.log.select(lambda e: is_exec(e, caller, needle))


def _event(run: Run, kind: str, **match: object) -> list[dict[str, object]]:
    return [p for p in run.rig.mqtt.of_type(kind)
            if all(p.get(k) == v for k, v in match.items())]


def test_status_every_20_seconds_from_ami_timestamps(run: Run) -> None:
    starts = [ami_time(e) for e in _calls(run, BUSY_CALLERS[0], STATUS_MARK)]
    intervals = [b - a for a, b in itertools.pairwise(starts)]
    print(f"status intervals (AMI AGIExecStart): {[f'{i:.3f}' for i in intervals]}")
    assert len(intervals) >= 4
    assert all(abs(i - 20.0) <= 0.5 for i in intervals), intervals
    assert statistics.median(intervals) == pytest.approx(20.0, abs=0.05)
    events = _event(run, "status_announced", officer="2101")
    assert len(events) >= 3 * 4
    assert {e["department"] for e in events} == {"finance"}


def test_freed_officer_rings_the_next_caller_within_a_second(run: Run) -> None:
    """Caller 1: freed between messages by the test. Callers 2 and 3: freed when the previous
    call ends, whatever the next caller is hearing (often mid-message)."""
    log = run.rig.log
    latencies = []
    for caller in BUSY_CALLERS:
        dial = log.select(lambda e, c=caller: e.event == "DialBegin"
                          and e.get("calleridnum") == c)[0]
        freed = max(ami_time(e) for e in log.select(
            lambda e, d=dial: e.event == "DeviceStateChange" and e.get("device") == "Custom:o2101"
            and e.get("state") == "NOT_INUSE" and ami_time(e) <= ami_time(d)))
        latencies.append(ami_time(dial) - freed)
    print(f"officer free -> next caller rung: {[f'{x:.3f}' for x in latencies]} s")
    assert ami_time(log.select(lambda e: e.event == "DialBegin"
                               and e.get("calleridnum") == BUSY_CALLERS[0])[0]) > run.freed_at
    assert all(0 <= x <= 1.0 for x in latencies), latencies


def test_three_callers_hear_positions_1_2_3_and_are_served_in_order(run: Run) -> None:
    first_positions = []
    for caller in BUSY_CALLERS:
        first = next(e for e in _event(run, "status_announced", officer="2101")
                     if e["uniqueid"] == _uniqueid(run, caller))
        first_positions.append(first["position"])
        assert first["interval_seconds"] is None
    assert first_positions == [1, 2, 3]
    dials = run.rig.log.select(lambda e: e.event == "DialBegin"
                               and e.get("calleridnum") in BUSY_CALLERS)
    assert [d["calleridnum"] for d in dials] == list(BUSY_CALLERS)
    # the position is said as a number file: caller 3's first message says "three"
    heard = [e["command"] for e in run.rig.log.events if e.event == "AGIExecStart"
             and e.get("calleridnum") == BUSY_CALLERS[2]]
    first_status = next(i for i, c in enumerate(heard) if STATUS_MARK in c)
    assert heard[first_status + 1].split("/")[-1].startswith('num-3"')
    # service recovery: 3rd in line, the expected wait passes the charter's max_wait (120 s)
    assert "/recovery" in " ".join(heard[first_status:first_status + 12])
    first_caller = [e["command"] for e in run.rig.log.events if e.event == "AGIExecStart"
                    and e.get("calleridnum") == BUSY_CALLERS[0]]
    first_message = first_caller[first_caller.index(next(
        c for c in first_caller if STATUS_MARK in c)):][:10]
    assert "/recovery" not in " ".join(first_message)


def _uniqueid(run: Run, caller: str) -> str:
    return run.rig.log.select(lambda e: e.event == "AGIExecStart"
                              and e.get("calleridnum") == caller)[0]["uniqueid"]


def test_announcement_plays_before_the_officer_rings(run: Run) -> None:
    events = run.rig.log.events
    name = next(i for i, e in enumerate(events) if is_exec(e, TRANSFERRED, "/officer-2102"))
    dept = next(i for i, e in enumerate(events) if is_exec(e, TRANSFERRED, "/dept-finance"))
    dial = next(i for i, e in enumerate(events) if e.event == "DialBegin"
                and e.get("calleridnum") == TRANSFERRED and "o2102" in e.get("destchannel", ""))
    digits = [e["command"] for e in events[dept:dial] if is_exec(e, TRANSFERRED, "/num-")]
    assert name < dept < dial
    assert [d.split("/")[-1].split('"')[0] for d in digits] == ["num-2", "num-1", "num-0", "num-2"]
    announced = _event(run, "transfer_announced", officer="2102",
                       uniqueid=events[name]["uniqueid"])
    assert announced
    assert announced[0]["officer_name"] == "Encik Lim Wei Jie"


def test_caller_keys_an_extension_and_chooses_english(run: Run) -> None:
    heard = [e["command"] for e in run.rig.log.events if e.event == "AGIExecStart"
             and e.get("calleridnum") == KEYED and "STREAM FILE" in e.get("command", "")]
    assert heard[0].startswith('STREAM FILE "/srv/callsla/')
    assert "/en/transfer_to" in heard[0]
    assert any("/en/officer-2102" in c for c in heard)


def test_waiting_caller_presses_1_for_a_message_and_leaves_no_state(run: Run) -> None:
    uniqueid = _uniqueid(run, CHOOSER)
    choice = _event(run, "caller_choice", uniqueid=uniqueid)
    assert [(c["choice"], c["where"]) for c in choice] == [("1", "waiting")]
    assert _event(run, "voicemail_left", uniqueid=uniqueid, officer="2101")
    assert _event(run, "callback_created", uniqueid=uniqueid)
    assert _event(run, "status_announced", uniqueid=uniqueid)[0]["position"] == 4
    assert run.rig.flows.lines.waiting_total() == 0, "nobody left in any line"
    assert run.rig.flows.lines["2101"].engaged_by is None


def test_unanswered_transfer_returns_ahead_of_a_new_caller(run: Run) -> None:
    joins = run.rig.log.select(lambda e: e.event == "QueueCallerJoin"
                               and e.get("calleridnum") in (UNANSWERED, NEW_AT_DESK))
    by_caller = {e["calleridnum"]: e for e in joins}
    returned = by_caller[UNANSWERED]
    assert joins.index(returned) > joins.index(by_caller[NEW_AT_DESK]), "joined after"
    assert returned["position"] == "1", "ahead of the caller already waiting"
    assert returned["calleridname"].startswith("RTN 2201")
    assert _calls(run, UNANSWERED, "/not_answering"), "the caller is told"
    event = _event(run, "transfer_returned", officer="2201")
    assert len(event) == 1
    assert 19.5 <= float(str(event[0]["ring_seconds"])) <= 21.5
    queue_log = (run.rig.lab.pbx.log_dir / "queue_log").read_text()  # type: ignore[union-attr]
    assert "CALLSLA_RETURNED|2201|no_answer" in queue_log


def test_message_for_an_out_of_office_officer(run: Run) -> None:
    # The lab's spool lives for the whole session: another module may have left a message for
    # 2301 first, so the event names the new message and that file holds the recording.
    left = _event(run, "voicemail_left", officer="2301")
    assert len(left) == 1
    message_id = str(left[0]["message_id"])
    assert re.fullmatch(r"callsla/2301/INBOX/msg\d{4}", message_id)
    assert (run.rig.spool / f"{message_id}.wav").stat().st_size > 1000
    assert float(str(left[0]["duration_seconds"])) > 1
    callback = _event(run, "callback_created", officer="2301")
    assert len(callback) == 1
    assert callback[0]["caller_number"] == OUT_OF_OFFICE
    assert callback[0]["caller_name"] == "Lab Caller"
    assert message_id in str(callback[0]["matter"])
    assert callback[0]["due_at"] > callback[0]["timestamp"]  # type: ignore[operator]


def test_hostile_caller_id_is_harmless(run: Run) -> None:
    rig = run.rig
    assert base64.b64decode("IngKRVhFQyBEaWFsKExvY2FsL28yMTAxQGxhYi1waG9uZXMp").decode() \
        == HOSTILE_NAME
    commands = [e.get("command", "") for e in rig.log.events if e.event == "AGIExecStart"]
    assert not [c for c in commands if "Local/o2101@lab-phones)" in c or "$x" in c]
    hostile_dials = rig.log.select(lambda e: e.event == "DialBegin"
                                   and e.get("calleridnum") == HOSTILE_NUMBER)
    assert [d.get("destchannel", "").split("-")[0] for d in hostile_dials] == ["Local/o2102@lab"]
    callback = _event(rig_run := run, "callback_created", officer="2202")
    assert len(callback) == 1, rig_run.rig.mqtt.of_type("callback_created")
    assert "\n" not in str(callback[0]["caller_name"])
    assert not set('"|;$\\') & set(str(callback[0]["caller_number"]) + str(
        callback[0]["caller_name"]))
    assert (rig.spool / "callsla" / "2202" / "INBOX" / "msg0000.wav").exists()
    assert not [line for line in rig.logs.lines if "\n" in line]


def test_broker_outage_loses_no_event_and_sends_none_twice(run: Run) -> None:
    assert int(str(run.notes["events_while_down"])) > 0, "calls produced events while down"
    received = [str(p["event_id"]) for p in run.rig.mqtt.received]
    put = run.rig.outbox.put_ids
    print(f"events: {len(put)} stored, {len(received)} received, "
          f"{int(str(run.notes['events_while_down']))} while the broker was down")
    assert set(received) == set(put)
    assert len(received) == len(set(received)), "every event exactly once"


async def test_unreachable_agi_server_sends_the_caller_to_the_front_desk(run: Run) -> None:
    rig = run.rig
    good = await rig.ami.action("Getvar", Variable="CALLSLA_AGI")
    await rig.setvar("CALLSLA_AGI", "agi://127.0.0.1:1")
    try:
        await place_inbound_call(rig.ami, dialled="2102", caller_id="0350000001", patience=5)
        join = await rig.log.wait_for(lambda e: e.event == "QueueCallerJoin"
                                      and e.get("calleridnum") == "0350000001", 15, "queued")
    finally:
        await rig.setvar("CALLSLA_AGI", good["value"])
    assert join["calleridname"].startswith("RTN 2102")


async def test_script_error_sends_the_caller_to_the_front_desk(run: Run) -> None:
    rig = run.rig
    good = rig.directory_file.read_text()
    rig.directory_file.write_text(good + "\n[[officer]]\nextension = 'broken'\n")
    try:
        await place_inbound_call(rig.ami, dialled="2102", caller_id="0350000002", patience=5)
        join = await rig.log.wait_for(lambda e: e.event == "QueueCallerJoin"
                                      and e.get("calleridnum") == "0350000002", 15, "queued")
    finally:
        rig.directory_file.write_text(good)
    assert join["calleridname"].startswith("RTN 2102")
    assert any("officer_call failed" in line for line in rig.logs.lines)


def test_prompts_exist_in_both_languages(lab: Lab) -> None:
    assert lab.pbx is not None
    root = lab.pbx.host_path(f"{lab.pbx.inst}/sounds/callsla")
    for lang in ("ms", "en"):
        assert (root / lang / "press_1.wav").stat().st_size > 1000
        assert (root / lang / "num-21.wav").exists()
        assert (root / lang / "officer-2101.wav").exists()
    assert Path(root / "ms" / "num-11.wav").read_bytes() != Path(
        root / "en" / "num-11.wav").read_bytes()


async def test_closing_a_callback_publishes_action_and_dates(
        run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """(e) action and (f) dates go out as `callback_closed`, which the monitor's store applies.

    The help desk's store holds the callback as a monitor recorded it from the published
    `callback_created`; `callsla callbacks close` closes it there and publishes the close."""
    rig = run.rig
    created = _event(run, "callback_created", officer="2301")[0]
    callback_id = str(created["callback_id"])
    db_url = f"sqlite:///{tmp_path}/help-desk.db"
    with open_store(db_url) as store:
        recorder = Recorder(store=store, metrics=create_call_metrics(CollectorRegistry()),
                            pbx="lab")
        assert record_flow_event(recorder, parse_event(json.dumps(created)),
                                 payload=json.dumps(created))
    monkeypatch.setenv("CALLSLA_MQTT_URL", rig.lab.config.mqtt_url)
    code = await asyncio.to_thread(main, [
        "callbacks", "close", callback_id, "--action", "Called back; licence renewed",
        "--informed-at", "now", "--db-url", db_url, "--outbox", str(tmp_path / "outbox")])
    assert code == 0
    async with asyncio.timeout(10):
        while not _event(run, "callback_closed", callback_id=callback_id):  # noqa: ASYNC110
            await asyncio.sleep(0.1)
    closed = _event(run, "callback_closed", callback_id=callback_id)[0]
    assert closed["action_taken"] == "Called back; licence renewed"
    assert closed["done_at"]
    assert closed["caller_informed_at"]
    assert closed["officer"] == "2301"
    # What the broker delivered, through the monitor's own MQTT handling, into a store.
    with open_store(f"sqlite:///{tmp_path}/monitor.db") as store:
        recorder = Recorder(store=store, metrics=create_call_metrics(CollectorRegistry()),
                            pbx="lab")
        recorder.start()
        feed = MqttFeed(endpoint=parse_endpoint("mqtt", rig.lab.config.mqtt_url,
                                                schemes={"mqtt": 1883}), recorder=recorder)
        assert feed.handle(json.dumps(created))
        opened = store.get_callback("lab", callback_id)
        assert opened is not None
        assert opened.status is CallbackStatus.OPEN
        assert feed.handle(json.dumps(closed))
        stored = store.get_callback("lab", callback_id)
    assert stored is not None
    assert stored.status is CallbackStatus.CLOSED
    assert stored.action_taken == "Called back; licence renewed"
    assert stored.done_at == datetime.fromisoformat(str(closed["done_at"]))
    assert stored.caller_informed_at == datetime.fromisoformat(str(closed["caller_informed_at"]))
