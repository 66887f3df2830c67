"""The MQTT feed of call-flow events: QoS 1, persistent session, acknowledged after the commit.

The session survives the monitor (clean_session=False, a fixed client id), so the broker keeps
what arrives while the monitor is down. A message is acknowledged only after its commit; a
redelivered copy is recognised by event_id and dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aiomqtt

from monitor.core.bad_input import kind_of
from monitor.core.events import EventSchemaError, subscription
from monitor.core.settings import Endpoint
from monitor.ingest.flow_recorder import record_flow_payload
from monitor.ingest.mqtt_ack import enable_manual_ack
from monitor.ingest.recorder import Recorder
from monitor.store import StoreError

log = logging.getLogger(__name__)

RECONNECT_MAX_SECONDS = 30.0


class MqttFeed:
    def __init__(self, *, endpoint: Endpoint, recorder: Recorder) -> None:
        self.endpoint = endpoint
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
                    identifier=f"callsla-monitor-{pbx}", clean_session=False)
                paho = enable_manual_ack(client)  # ack after the commit, not on receipt
                async with client:
                    await client.subscribe(self.topic, qos=1)
                    self.connected, delay = True, 1.0
                    connected.set(1)
                    log.info("MQTT subscribed to %s at %s", self.topic, self.endpoint.redacted())
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
