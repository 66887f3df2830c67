"""The lab itself: a real call through the real Asterisk, a message across the real Mosquitto,
and a real Prometheus scraping the monitor."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
import urllib.request

import aiomqtt

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
    port = lab.config.ports.mqtt
    payload = json.dumps({"probe": time.time()})
    async with aiomqtt.Client("127.0.0.1", port, identifier="lab-sub") as sub:
        await sub.subscribe("callsla/test/probe", qos=1)
        async with aiomqtt.Client("127.0.0.1", port, identifier="lab-pub") as pub:
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


def test_prometheus_scrapes_the_monitor(lab: Lab, monitor_process: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        result = _prometheus_query(lab, 'up{job="callsla"}')
        if result and result[0]["value"][1] == "1":  # type: ignore[index]
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"Prometheus never scraped the monitor: {result}")
    with urllib.request.urlopen(f"{monitor_process}/metrics", timeout=5) as response:
        text = response.read().decode()
    assert "callsla_calls_offered_total" in text or "# TYPE callsla_calls_offered" in text
