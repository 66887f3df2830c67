"""The installed aiomqtt still carries the paho client that manual acknowledgement needs: this
fails loudly when a new aiomqtt is locked that moved it."""

from __future__ import annotations

import aiomqtt
import paho.mqtt.client as paho
import pytest

from monitor.ingest.mqtt_ack import ManualAckError, enable_manual_ack, paho_client


async def test_the_installed_aiomqtt_has_a_paho_client_with_manual_ack() -> None:
    client = aiomqtt.Client("127.0.0.1", 1883, identifier="ack-test")
    inner = enable_manual_ack(client)
    assert isinstance(inner, paho.Client)
    assert inner._manual_ack is True  # paho's own flag: the switch took


async def test_an_aiomqtt_without_it_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    client = aiomqtt.Client("127.0.0.1", 1883, identifier="ack-test")
    monkeypatch.delattr(client, "_client")
    with pytest.raises(ManualAckError, match="manual acknowledgement"):
        paho_client(client)
