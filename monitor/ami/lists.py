"""AMI actions that answer with a list of events (QueueStatus, DeviceStateList ...), on a
connection of their own: the events of the list are those with the action's ActionID."""

from __future__ import annotations

import asyncio

from monitor.ami.client import AmiClient, AmiError
from monitor.ami.message import AmiMessage


async def list_action(ami: AmiClient, action: str, complete: str, *, timeout: float = 10.0,
                      **fields: str) -> list[AmiMessage]:
    """The events of the list, up to the `complete` event; AmiError if refused or cut."""
    reply = await ami.action(action, timeout=timeout, **fields)
    if not reply.succeeded:
        raise AmiError(f"AMI action {action} refused: {reply.get('message', '')}")
    action_id = reply.get("actionid")
    found: list[AmiMessage] = []
    try:
        async with asyncio.timeout(timeout):
            async for event in ami.events():
                if event.get("actionid") != action_id:
                    continue
                if event.event == complete:
                    return found
                found.append(event)
    except TimeoutError:
        raise AmiError(f"AMI action {action}: no {complete} in {timeout} s") from None
    raise AmiError(f"AMI action {action}: the connection closed before {complete}")
