"""The live AMI feed: connect, catch up from the logs, then record event batches; reconnect.

The batches hold the PBX's events and the call flows' `CallSLA` UserEvents (the events MQTT
carries, for sites without a broker), recorded in AMI's order (`ami_routing.py`); each batch's
committed call-flow events are then acknowledged to the agi-server (`ami_acks.py`), and each
login asks it to send again what was not (events sent while the monitor was away).

Connection loss is normal: each loss is followed by a back-off (1 s doubling to 30 s), a new
login, and a backfill of the gap before live events are taken again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from monitor.ami import AmiClient, AmiError, AmiMessage
from monitor.core.log_gate import LogGate
from monitor.core.settings import Endpoint
from monitor.ingest.ami_acks import StoredEventAcks
from monitor.ingest.ami_routing import record_ami_events
from monitor.ingest.call_state import HANDLED_EVENTS
from monitor.ingest.queue_announcements import HANDLED_EVENTS as ANNOUNCEMENT_EVENTS
from monitor.ingest.recorder import Recorder
from monitor.store import StoreError

log = logging.getLogger(__name__)

RECONNECT_MAX_SECONDS = 30.0
# What the state machine and the queue announcements read, the call flows' UserEvents, plus
# the replies to QueueSummary; all else is skipped unparsed.
FEED_EVENTS = HANDLED_EVENTS | ANNOUNCEMENT_EVENTS | {"UserEvent",
    "QueueSummary", "QueueSummaryComplete", "QueueEntry", "QueueStatusComplete",
    "CoreShowChannel", "CoreShowChannelsComplete"}


class AmiFeed:
    def __init__(self, *, endpoint: Endpoint, recorder: Recorder,
                 catch_up: Callable[[], object]) -> None:
        self.endpoint = endpoint
        self.recorder = recorder
        self.catch_up = catch_up
        self.connected = False
        self.queues: list[str] = []
        # A store that is down fails every try (each second): logged once a minute.
        self._store_log = LogGate()
        self.acks = StoredEventAcks(recorder.pbx)
        self._stored: list[str] = []  # committed call-flow events not yet acknowledged

    async def run(self) -> None:
        metrics, pbx = self.recorder.metrics, self.recorder.pbx
        received = metrics.events_received.labels(pbx, "ami")
        rejected = metrics.events_rejected.labels(pbx, "ami")
        connected = metrics.source_connected.labels(pbx, "ami")
        delay = 1.0
        while True:
            client = AmiClient.from_endpoint(self.endpoint, only_events=FEED_EVENTS)
            skipped = 0
            try:
                await client.connect()
                delay = 1.0
                if self.recorder.store.failure is None:  # the next outage is logged at once
                    self._store_log.reset("failed")
                self.connected = True
                connected.set(1)
                await self._declare_queues(client)
                self.catch_up()  # events arriving meanwhile wait in the client's queue
                await self._close_vanished(client)
                await self.acks.ask_for_resend(client)
                await self._acknowledge(client)
                async for batch in client.event_batches():
                    received.inc(len(batch) + client.skipped_events - skipped)
                    skipped = client.skipped_events
                    bad = record_ami_events(self.recorder, batch, stored=self._stored)
                    if bad:
                        rejected.inc(bad)
                    await self._acknowledge(client)
                log.warning("AMI at %s closed the connection", self.endpoint.redacted())
            except AmiError as exc:
                log.warning("%s; retrying in %.0f s", exc, delay)
            except StoreError as exc:
                # Events since the last commit are lost here; the next connection's backfill
                # brings them back from the PBX's logs.
                if (held := self._store_log.passes("failed")) is not None:
                    log.error("store failed (%s); reconnecting AMI in %.0f s%s", exc, delay,
                              f" ({held} more failures not logged)" if held else "")
                await self.recover()
            finally:
                self.connected = False
                self._stored.clear()  # unacknowledged: the agi-server sends them again
                connected.set(0)
                await client.close()
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_SECONDS)

    async def _acknowledge(self, client: AmiClient) -> None:
        if self._stored:
            stored, self._stored = self._stored, []
            await self.acks.acknowledge(client, stored)

    async def recover(self) -> None:
        """Reconnect the store in a thread (PostgreSQL may take its connect timeout), then
        rebuild the recorder's state on the loop."""
        try:
            fresh = await asyncio.to_thread(self.recorder.store.open_connection)
            self.recorder.recover(fresh)
        except StoreError as exc:
            if (held := self._store_log.passes("unavailable")) is not None:
                log.error("store still unavailable: %s%s", exc,
                          f" ({held} more tries not logged)" if held else "")
        else:
            self._store_log.reset("unavailable")

    async def _declare_queues(self, client: AmiClient) -> None:
        """Create the series of every queue the PBX has, before its first call."""
        summary = await self._ask_list(client, "QueueSummary", "QueueSummaryComplete") or []
        self.queues = [e["queue"] for e in summary if e.event == "QueueSummary" and
                       e.get("queue")]
        self.recorder.counter.declare(self.recorder.pbx, queues=self.queues, departments=())

    async def _close_vanished(self, client: AmiClient) -> None:
        """Callers whose channels the PBX no longer has (gone while we were not listening,
        or in an Asterisk crash or restart, which sends no Hangup): after the backfill said
        what it could, their legs close as missed, cause `lost`. `CoreShowChannels` needs the
        `reporting` write right; without it the queues' own list covers the waiting callers."""
        channels = await self._ask_list(client, "CoreShowChannels", "CoreShowChannelsComplete")
        if channels is not None:
            alive = {str(e.get("uniqueid")) for e in channels if e.event == "CoreShowChannel"}
        else:
            status = await self._ask_list(client, "QueueStatus", "QueueStatusComplete")
            if status is None:
                return
            queued = {str(e.get("uniqueid")) for e in status if e.event == "QueueEntry"}
            waiting = set(self.recorder.tracker.queue_legs)
            alive = queued | {uid for uid in self.recorder.tracker.callers() if
                              uid not in waiting}
        closed = self.recorder.reconcile(alive)
        if closed:
            log.warning("%d legs closed as lost: their callers' channels are gone from the PBX",
                        closed)

    async def _ask_list(self, client: AmiClient, action: str,
                        complete: str) -> list[AmiMessage] | None:
        """Send a list action; events that arrive meanwhile go to the recorder in order."""
        try:
            reply = await client.action(action)
        except AmiError as exc:
            log.info("%s not allowed (%s)", action, exc)
            return None
        if not reply.succeeded:
            return None
        answer: list[AmiMessage] = []
        async for event in client.events():
            if event.event == complete:
                return answer
            # A UserEvent carries its sender's ActionID, which may equal ours by chance.
            if event.get("actionid") == reply.get("actionid") and event.event != "UserEvent":
                answer.append(event)
            else:
                record_ami_events(self.recorder, [event], stored=self._stored)
        return answer
