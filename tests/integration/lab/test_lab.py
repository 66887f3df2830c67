"""The lab itself: a real call through the real Asterisk, a message across the real Mosquitto,
and a real Prometheus scraping the monitor."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
import urllib.request
from collections.abc import Callable

import aiomqtt
from prometheus_client.parser import text_string_to_metric_families

from lab import Lab
from lab.calls import place_inbound_call, set_phone
from monitor.ami import AmiClient, AmiMessage


def test_core_show_version_is_asterisk_22(lab: Lab) -> None:
    assert lab.pbx is not None
    version = lab.pbx.cli("core show version")
    assert version.startswith("Asterisk 22."), version


async def _collect(ami: AmiClient, until_event: str, timeout: float) -> list[AmiMessage]:
    seen: list[AmiMessage] = []

    async def reader() -> None:
        async for event in ami.events():
            seen.append(event)
            if event.event == until_event:
                return

    await asyncio.wait_for(reader(), timeout)
    return seen


async def test_inbound_call_is_answered_by_a_receptionist(ami: AmiClient) -> None:
    for phone in ("r1", "r2", "r3"):
        await set_phone(ami, phone, answer_after=1, talk_for=1)
    await place_inbound_call(ami, caller_id="0387654321", patience=30)
    events = await _collect(ami, "QueueCallerLeave", timeout=20)
    names = [e.event for e in events]
    assert "QueueCallerJoin" in names
    join = next(e for e in events if e.event == "QueueCallerJoin")
    assert join["queue"] == "frontdesk"
    assert join["calleridnum"] == "0387654321"
    connect = await _collect(ami, "AgentConnect", timeout=10)
    agent = connect[-1]
    assert agent["queue"] == "frontdesk"
    assert 0 <= int(agent["holdtime"]) <= 3
    assert "timestamp" in agent, "manager.conf must set timestampevents=yes"


async def test_message_crosses_mosquitto(lab: Lab) -> None:
    port, login = lab.config.ports.mqtt, lab.config.mqtt_user
    payload = json.dumps({"probe": time.time()})
    async with aiomqtt.Client("127.0.0.1", port, identifier="lab-sub", username=login,
                              password=lab.config.ami_secret) as sub:
        await sub.subscribe("callsla/test/probe", qos=1)
        async with aiomqtt.Client("127.0.0.1", port, identifier="lab-pub", username=login,
                                  password=lab.config.ami_secret) as pub:
            await pub.publish("callsla/test/probe", payload, qos=1)
        message = await asyncio.wait_for(anext(aiter(sub.messages)), 5)
    assert message.payload.decode() == payload


def _prometheus_query(lab: Lab, expr: str) -> list[dict[str, object]]:
    url = f"{lab.config.prometheus_url}/api/v1/query?query={urllib.parse.quote(expr)}"
    with urllib.request.urlopen(url, timeout=5) as response:
        body = json.load(response)
    assert body["status"] == "success", body
    result: list[dict[str, object]] = body["data"]["result"]
    return result


def _monitor_sample(url: str, name: str, labels: dict[str, str]) -> float:
    """One sample of the monitor's own /metrics; 0 when the series does not exist yet."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        text = response.read().decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0


def _prometheus_value(lab: Lab, expr: str) -> float | None:
    result = _prometheus_query(lab, expr)
    return float(result[0]["value"][1]) if result else None  # type: ignore[index]


async def _until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out: {what}")
        await asyncio.sleep(0.5)


async def test_prometheus_scrapes_the_figures_of_a_call_placed_here(
        lab: Lab, monitor_process: str, ami: AmiClient) -> None:
    """Not "the family is declared" (true with zero calls): the call this test places moves the
    monitor's counters, and Prometheus scrapes the moved values."""
    def ami_connected() -> bool:
        with urllib.request.urlopen(f"{monitor_process}/healthz", timeout=5) as response:
            return bool(json.load(response)["ami_connected"])

    await _until(lambda: _prometheus_value(lab, 'up{job="callsla"}') == 1, 20,
                 "Prometheus scraping the monitor")
    await _until(ami_connected, 20, "the monitor's AMI connection")
    desk = {"pbx": "lab", "queue": "frontdesk", "department": ""}
    offered_before = _monitor_sample(monitor_process, "callsla_calls_offered_total", desk)
    answered_before = _monitor_sample(monitor_process, "callsla_calls_answered_total", desk)
    for phone in ("r1", "r2", "r3"):
        await set_phone(ami, phone, answer_after=1, talk_for=1)
    await place_inbound_call(ami, caller_id="0387650000", patience=30)
    await _until(lambda: _monitor_sample(monitor_process, "callsla_calls_answered_total", desk)
                 == answered_before + 1, 20, "the monitor counting the call answered")
    assert _monitor_sample(monitor_process, "callsla_calls_offered_total", desk) == \
        offered_before + 1
    selector = 'job="callsla",pbx="lab",queue="frontdesk",department=""'
    await _until(lambda: _prometheus_value(lab, f"callsla_calls_answered_total{{{selector}}}")
                 == answered_before + 1, 20, "Prometheus scraping the answered call")
    assert _prometheus_value(lab, f"callsla_calls_offered_total{{{selector}}}") == \
        offered_before + 1
    # answered after about 1 s: inside the charter's 10 s in the scraped histogram too
    assert (_prometheus_value(lab, f'callsla_answer_wait_seconds_bucket{{{selector},le="10.0"}}')
            or 0) >= 1
