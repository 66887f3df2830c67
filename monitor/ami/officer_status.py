"""An officer's live in/out/leave status in Asterisk's AstDB, set and read over AMI.

The call flows read it on every call, so a change applies to the next call without a reload.
"""

from __future__ import annotations

from monitor.ami.client import AmiClient, AmiError
from monitor.core.directory import ASTDB_FAMILY, OfficerStatus, status_key


async def set_officer_status(ami: AmiClient, extension: str, status: OfficerStatus) -> None:
    reply = await ami.action("DBPut", Family=ASTDB_FAMILY, Key=status_key(extension),
                             Val=status.value)
    if not reply.succeeded:
        raise AmiError(f"DBPut for {extension}: {reply.get('message', '')}")


async def officer_status(ami: AmiClient, extension: str) -> OfficerStatus | None:
    """The AstDB override, or None when the directory file's status applies."""
    reply = await ami.action("DBGet", Family=ASTDB_FAMILY, Key=status_key(extension))
    if not reply.succeeded:
        return None
    found: OfficerStatus | None = None
    async for event in ami.events():  # read through DBGetComplete: nothing left for the next
        if event.event == "DBGetResponse" and event.get("key") == status_key(extension):
            found = OfficerStatus(event.get("val", "in"))
        elif event.event == "DBGetComplete":
            break
    return found
