"""The MQTT feed's subscription: a broker whose ACL refuses it is an error, never silence."""

from __future__ import annotations

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from monitor.ingest.mqtt_feed import subscription_refused


def test_a_refused_subscription_is_seen_in_mqtt_3_and_5() -> None:
    assert not subscription_refused((1,))
    assert subscription_refused((0x80,))  # MQTT 3.1.1: failure
    assert not subscription_refused([ReasonCode(PacketTypes.SUBACK, "Granted QoS 1")])
    assert subscription_refused([ReasonCode(PacketTypes.SUBACK, "Not authorized")])
