"""Manual MQTT acknowledgement: aiomqtt 2.x has none, so it goes through the paho client under it.

A message is acknowledged only after the commit that records it (docs/decisions.md). aiomqtt
keeps its paho client in the private attribute `_client`; this is the one place that reaches
it, and it fails loudly (at start, and in `tests/unit/monitor/ingest/test_mqtt_ack.py` when
a new aiomqtt is locked) if that ever changes, instead of acknowledging every message on
receipt without anyone noticing.
"""

from __future__ import annotations

import aiomqtt
import paho.mqtt.client as paho


class ManualAckError(RuntimeError):
    """The installed aiomqtt no longer exposes the paho client that manual ack needs."""


def paho_client(client: aiomqtt.Client) -> paho.Client:
    inner = getattr(client, "_client", None)
    if not isinstance(inner, paho.Client) or not all(
            callable(getattr(inner, name, None)) for name in ("manual_ack_set", "ack")):
        raise ManualAckError(
            f"aiomqtt {getattr(aiomqtt, '__version__', '?')} has no paho client with manual "
            "acknowledgement at Client._client; callsla needs it to acknowledge MQTT events "
            "only after they are stored (see monitor/ingest/mqtt_ack.py)")
    return inner


def enable_manual_ack(client: aiomqtt.Client) -> paho.Client:
    """Switch the client to manual acknowledgement (before connecting); returns the paho
    client whose `ack(mid, qos)` acknowledges a message."""
    inner = paho_client(client)
    inner.manual_ack_set(True)
    return inner
