"""The lab's Mosquitto as docs/security.md asks of a site: no anonymous client, passwords,
and an ACL by which the agi-server publishes call-flow events, the help desk only
callback_closed, and the monitor only reads (lab/services.py MOSQUITTO_ACL)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid

import aiomqtt
import pytest

from lab import Lab
from monitor.core.events import subscription, topic


def _publish_v5(lab: Lab, user: str, where: str) -> str:
    """Publish QoS 1 over MQTT 5, whose PUBACK carries the broker's verdict; returns what
    mosquitto_pub printed (a refusal is "Not authorized")."""
    done = subprocess.run(
        ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(lab.config.ports.mqtt), "-V", "mqttv5",
         "-q", "1", "-u", user, "-P", lab.config.ami_secret, "-t", where, "-m", "{}"],
        capture_output=True, text=True, timeout=10, check=False)
    return done.stdout + done.stderr


async def test_an_anonymous_client_is_refused(lab: Lab) -> None:
    with pytest.raises(aiomqtt.MqttError, match="Not authorized"):
        async with aiomqtt.Client("127.0.0.1", lab.config.ports.mqtt):
            pass


@pytest.mark.parametrize(("user", "kind"), [("callsla-monitor", "leg_voicemail"),
                                            ("callsla-helpdesk", "leg_voicemail")])
def test_the_broker_refuses_a_publish_the_acl_does_not_allow(
        lab: Lab, user: str, kind: str) -> None:
    assert "Not authorized" in _publish_v5(lab, user, topic("lab", kind))


@pytest.mark.parametrize(("user", "kind"), [("callsla-agi", "leg_voicemail"),
                                            ("callsla-helpdesk", "callback_closed")])
def test_the_publishers_may_publish_their_events(lab: Lab, user: str, kind: str) -> None:
    assert "Not authorized" not in _publish_v5(lab, user, topic("lab", kind))


async def test_the_monitor_s_user_reads_only_what_the_agi_user_published(lab: Lab) -> None:
    pbx = f"acl-{uuid.uuid4().hex[:6]}"
    login = {"password": lab.config.ami_secret}
    port = lab.config.ports.mqtt
    async with aiomqtt.Client("127.0.0.1", port, username="callsla-monitor", **login) as sub:
        await sub.subscribe(subscription(pbx), qos=1)
        await asyncio.to_thread(_publish_v5, lab, "callsla-monitor", topic(pbx, "forged"))
        async with aiomqtt.Client("127.0.0.1", port, username="callsla-agi", **login) as pub:
            await pub.publish(topic(pbx, "genuine"), json.dumps({"n": 1}), qos=1)
        message = await asyncio.wait_for(anext(aiter(sub.messages)), 5)
    assert str(message.topic) == topic(pbx, "genuine")  # the forged one never arrived
