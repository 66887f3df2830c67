"""Sends the outbox as AMI `UserEvent`s: a site without an MQTT broker still gets every figure.

Each event goes as one `UserEvent: CallSLA` action (framing: `monitor/core/events_on_ami.py`),
over the AMI connection the agi-server keeps anyway. Asterisk keeps no events for a monitor that
is not logged in, so `Response: Success` is not enough: the file is deleted only when the
monitor acknowledges the event as stored (`UserEvent: CallSLAStored` with this PBX's name, read
on the same connection), and resent in order while it does not (`agi_scripts/awaiting_ack.py`).
While AMI is away, or refuses the action (the user lacks `write = user`), the files wait and
are tried again every `retry_seconds`; one warning per outage.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

from agi_scripts.awaiting_ack import AwaitingAck
from agi_scripts.interrupter import AmiActions
from agi_scripts.outbox import Outbox, OutboxEntry
from monitor.ami import AmiError, AmiMessage
from monitor.core.acks_on_ami import ack_token, parse_ack
from monitor.core.events import EventSchemaError
from monitor.core.events_on_ami import userevent_fields

log = logging.getLogger(__name__)

ACK_EVENTS = frozenset({"UserEvent"})  # all the sender's connection needs to parse


class AckedAmi(AmiActions, Protocol):
    """AMI for the sender: actions, the count of logins, and the events of the `user` class."""

    @property
    def logins(self) -> int: ...

    def listen(self, listener: Callable[[AmiMessage], None]) -> None: ...


class AmiSender:
    """Sends the outbox through `ami` (a `KeptAmiConnection` with `user` events) until
    cancelled; `sent` counts the events the monitor of `pbx` acknowledged."""

    def __init__(self, outbox: Outbox, ami: AckedAmi, *, pbx: str, retry_seconds: float = 1.0,
                 action_timeout: float = 5.0, awaiting: AwaitingAck | None = None) -> None:
        self.outbox = outbox
        self.ami = ami
        self.pbx = pbx
        self.retry_seconds = retry_seconds
        self.action_timeout = action_timeout
        self.awaiting = awaiting if awaiting is not None else AwaitingAck()
        self.sent = 0
        self._login = 0
        self._entries: dict[str, OutboxEntry] = {}  # sent and waiting, by ack token
        ami.listen(self.on_ami_event)

    async def run(self) -> None:
        """Connection loss is normal: log once per outage, retry."""
        outage: str | None = None
        while True:
            try:
                if not self.ami.connected:
                    raise AmiError("AMI is not connected")
                if self.ami.logins != self._login:  # acknowledgements may have been missed
                    self._login = self.ami.logins
                    self.awaiting.resend_all()
                self.outbox.wake.clear()
                await self._send_due()
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
            due_in = self.awaiting.next_due_in()
            await self.outbox.wait_for_more(1.0 if due_in is None else min(1.0, due_in))

    def on_ami_event(self, message: AmiMessage) -> None:
        """An acknowledgement from this PBX's monitor deletes the files it names; its request
        at login makes everything waiting due now."""
        ack = parse_ack(message)
        if ack is None or ack.pbx != self.pbx:
            return
        for token in self.awaiting.acknowledged(ack.tokens):
            entry = self._entries.pop(token, None)
            if entry is not None:
                self.outbox.sent(entry)
                self.sent += 1
        if ack.resend_all:
            self.awaiting.resend_all()
            self.outbox.wake.set()

    async def _send_due(self) -> None:
        seen: list[str] = []
        for entry in self.outbox.waiting():
            seen.append(entry.event_id)
            if self.awaiting.due(entry.event_id):
                await self._send(entry)
        self.awaiting.keep_only(seen)
        live = {ack_token(e) for e in seen}
        self._entries = {t: e for t, e in self._entries.items() if t in live}

    async def _send(self, entry: OutboxEntry) -> None:
        try:
            fields = userevent_fields(entry.payload, event_id=entry.event_id,
                                      event_type=entry.type)
        except EventSchemaError as exc:  # too large for one AMI action: never sendable here
            self.outbox.set_aside(entry.path, str(exc))
            return
        self._entries[ack_token(entry.event_id)] = entry
        self.awaiting.sending(entry.event_id)  # before: the ack can overtake the response
        try:
            reply = await self.ami.action("UserEvent", timeout=self.action_timeout, **fields)
        except AmiError:
            self.awaiting.not_sent(entry.event_id)
            raise
        if not reply.succeeded:
            self.awaiting.not_sent(entry.event_id)
            raise AmiError(f"Asterisk refused the UserEvent action: {reply.get('message', '')}"
                           " (the AMI user needs write = user)")
