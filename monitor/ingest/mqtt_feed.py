"""The MQTT feed of call-flow events: QoS 1, persistent session, acknowledged after the commit.

The session survives the monitor (clean_session=False, a client id stable across restarts and
its own per PBX, host and instance: `Settings.mqtt_client_id`), so the broker keeps what
arrives while the monitor is down. A message is acknowledged only after its commit; a
redelivered copy is recognised by event_id and dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aiomqtt
from paho.mqtt.reasoncodes import ReasonCode

from monitor.core.bad_input import kind_of
from monitor.core.events import EventSchemaError, subscription
from monitor.core.settings import Endpoint
from monitor.core.tls_context import client_tls_context
from monitor.ingest.flow_recorder import record_flow_payload
from monitor.ingest.mqtt_ack import enable_manual_ack
from monitor.ingest.recorder import Recorder
from monitor.store import StoreError

log = logging.getLogger(__name__)

RECONNECT_MAX_SECONDS = 30.0


def subscription_refused(granted: tuple[int, ...] | list[ReasonCode]) -> bool:
    """A SUBACK code of 128 or more is a refusal (MQTT 3.1.1 0x80, MQTT 5 reason codes)."""
    return any((code >= 128) if isinstance(code, int) else code.is_failure for code in granted)


class MqttFeed:
    def __init__(self, *, endpoint: Endpoint, recorder: Recorder, client_id: str) -> None:
        self.endpoint = endpoint
        self.client_id = client_id
        self.recorder = recorder
        self.connected = False
        self.topic = subscription(recorder.pbx)

    async def run(self) -> None:
        pbx, metrics = self.recorder.pbx, self.recorder.metrics
        connected = metrics.source_connected.labels(pbx, "mqtt")
        delay = 1.0
        while True:
            try:
                client = aiomqtt.Client(
                    self.endpoint.host, self.endpoint.port,
                    username=self.endpoint.username or None,
                    password=self.endpoint.password or None,
                    identifier=self.client_id, clean_session=False,
                    tls_context=client_tls_context(self.endpoint))
                paho = enable_manual_ack(client)  # ack after the commit, not on receipt
                async with client:
                    granted = await client.subscribe(self.topic, qos=1)
                    if subscription_refused(granted):  # an ACL that forbids reading it
                        raise aiomqtt.MqttError(
                            f"the broker refused the subscription to {self.topic} for user "
                            f"{self.endpoint.username!r}: its ACL must let it read the topic")
                    self.connected, delay = True, 1.0
                    connected.set(1)
                    log.info("MQTT subscribed to %s at %s as client %s", self.topic,
                             self.endpoint.redacted(), self.client_id)
                    async for message in client.messages:
                        self.handle(message.payload)
                        paho.ack(message.mid, message.qos)
            except aiomqtt.MqttError as exc:
                log.warning("MQTT %s: %s; retrying in %.0f s", self.endpoint.redacted(), exc,
                            delay)
            except StoreError as exc:
                # The message stays unacknowledged: the broker redelivers it after reconnect.
                log.error("store failed (%s); reconnecting MQTT in %.0f s", exc, delay)
                with contextlib.suppress(StoreError):  # connecting blocks: not on the loop
                    store = self.recorder.store
                    store.reconnect(await asyncio.to_thread(store.open_connection))
            finally:
                self.connected = False
                connected.set(0)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_SECONDS)

    def handle(self, payload: object) -> bool:
        """Record one message; bad input is counted and skipped (and still acknowledged)."""
        pbx, metrics = self.recorder.pbx, self.recorder.metrics
        metrics.events_received.labels(pbx, "mqtt").inc()
        try:
            if not isinstance(payload, bytes | str):
                raise EventSchemaError("payload is not bytes")
            return record_flow_payload(self.recorder, payload, source="mqtt")
        except EventSchemaError as exc:
            metrics.events_rejected.labels(pbx, "mqtt").inc()
            self.recorder.bad_input.report("mqtt", kind_of(exc), f"skipped event: {exc}")
            return False
