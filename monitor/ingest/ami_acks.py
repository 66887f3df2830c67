"""Tells the agi-server, on the monitor's AMI connection, which call-flow events are committed.

Without a broker nothing else keeps an event for a monitor that was down: the agi-server keeps
each outbox file until this acknowledgement (`monitor/core/acks_on_ami.py`) and resends the
rest. So it is sent only after the commit, and never for an event that was rejected or whose
commit failed; at each login the monitor asks for everything not yet acknowledged.
"""

from __future__ import annotations

import logging

from monitor.ami import AmiClient
from monitor.core.acks_on_ami import ack_fields, resend_request_fields

log = logging.getLogger(__name__)


class StoredEventAcks:
    """Sends the acknowledgements of one PBX's monitor; a refusal is logged once a login."""

    def __init__(self, pbx: str, *, timeout: float = 5.0) -> None:
        self.pbx = pbx
        self.timeout = timeout
        self.sent = 0
        self._refusal_logged = False

    async def ask_for_resend(self, client: AmiClient) -> None:
        """At login: the agi-server sends again what it has not seen acknowledged. Refused
        on a PBX whose monitor user may not write `user`: fine while no event of ours comes."""
        self._refusal_logged = False
        reply = await client.action("UserEvent", timeout=self.timeout,
                                    **resend_request_fields(self.pbx))
        if not reply.succeeded:
            log.info("no acknowledgements of call-flow events on this AMI (%s): without "
                     "write = user, events sent while the monitor was away are not resent",
                     reply.get("message", ""))

    async def acknowledge(self, client: AmiClient, event_ids: list[str]) -> None:
        """After the commit of `event_ids` (committed now, or found already stored)."""
        for fields in ack_fields(self.pbx, event_ids):
            if await self._send(client, fields):
                self.sent += fields["EventIDs"].count(",") + 1

    async def _send(self, client: AmiClient, fields: dict[str, str]) -> bool:
        """False when Asterisk refuses; AmiError (a lost connection) goes to the feed."""
        reply = await client.action("UserEvent", timeout=self.timeout, **fields)
        if reply.succeeded:
            return True
        if not self._refusal_logged:
            log.warning("Asterisk refused the acknowledgement of stored call-flow events (%s): "
                        "the monitor's AMI user needs write = user, else the agi-server sends "
                        "its events again and again", reply.get("message", ""))
            self._refusal_logged = True
        return False

