"""Sends the outbox as AMI `UserEvent`s: a site without an MQTT broker still gets every figure.

Each event goes as one `UserEvent: CallSLA` action (framing: `monitor/core/events_on_ami.py`),
over the AMI connection the agi-server keeps anyway; its file is deleted only after Asterisk's
`Response: Success`. While AMI is away, or refuses the action (the user lacks `write = user`),
the files wait and are sent again in order every `retry_seconds`; one warning per outage.
"""

from __future__ import annotations

import asyncio
import logging

from agi_scripts.interrupter import AmiActions
from agi_scripts.outbox import Outbox, OutboxEntry
from monitor.ami import AmiError
from monitor.core.events import EventSchemaError
from monitor.core.events_on_ami import userevent_fields

log = logging.getLogger(__name__)


class AmiSender:
    """Sends the outbox through `ami` (a `KeptAmiConnection`) until cancelled."""

    def __init__(self, outbox: Outbox, ami: AmiActions, *, retry_seconds: float = 1.0,
                 action_timeout: float = 5.0) -> None:
        self.outbox = outbox
        self.ami = ami
        self.retry_seconds = retry_seconds
        self.action_timeout = action_timeout
        self.sent = 0

    async def run(self) -> None:
        """Connection loss is normal: log once per outage, retry."""
        outage: str | None = None
        while True:
            try:
                if not self.ami.connected:
                    raise AmiError("AMI is not connected")
                self.outbox.wake.clear()
                for entry in self.outbox.waiting():
                    await self._send(entry)
                if outage is not None:
                    log.info("AMI takes events again; the outbox in %s is sent",
                             self.outbox.folder)
                    outage = None
            except AmiError as exc:
                if outage is None and self.outbox.pending():
                    log.warning("call-flow events cannot go to AMI (%s); they wait in %s",
                                exc, self.outbox.folder)
                    outage = str(exc)
                await asyncio.sleep(self.retry_seconds)
                continue
            await self.outbox.wait_for_more()

    async def _send(self, entry: OutboxEntry) -> None:
        try:
            fields = userevent_fields(entry.payload, event_id=entry.event_id,
                                      event_type=entry.type)
        except EventSchemaError as exc:  # too large for one AMI action: never sendable here
            self.outbox.set_aside(entry.path, str(exc))
            return
        reply = await self.ami.action("UserEvent", timeout=self.action_timeout, **fields)
        if not reply.succeeded:
            raise AmiError(f"Asterisk refused the UserEvent action: {reply.get('message', '')}"
                           " (the AMI user needs write = user)")
        self.outbox.sent(entry)
        self.sent += 1
