"""Classic AGI (agi-bin) for small sites: the same scripts over stdin/stdout, one process a call.

Install `agi_scripts/callsla-agi` in Asterisk's agi-bin and call `AGI(callsla-agi,officer_call,
<extension>)`. Each call is its own process, so callers waiting for one officer are not kept in
order among themselves (use the FastAGI server for that), and events stay in the outbox until
`callsla agi-server` or `callsla events send` publishes them.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from agi_scripts.agi import AgiSession
from agi_scripts.flows import CallFlows, FlowSettings
from agi_scripts.outbox import Outbox
from agi_scripts.server import run_script
from monitor.core.charter import load_charter


async def stdio_streams() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """stdin/stdout as asyncio streams, so the FastAGI session code runs unchanged."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    transport, protocol = await loop.connect_write_pipe(
        asyncio.streams.FlowControlMixin, sys.stdout)
    return reader, asyncio.StreamWriter(transport, protocol, reader, loop)


async def run_classic(script: str) -> None:
    reader, writer = await stdio_streams()
    session = AgiSession(reader, writer)
    await session.start()
    session.env["network_script"] = script  # classic AGI names the program, not the script
    directory = os.environ.get("CALLSLA_DIRECTORY")
    flows = CallFlows(FlowSettings(
        pbx=os.environ.get("CALLSLA_PBX", "pbx1"),
        charter=load_charter(Path(os.environ["CALLSLA_CHARTER"])
                             if os.environ.get("CALLSLA_CHARTER") else None),
        directory_file=Path(directory) if directory else None),
        Outbox(Path(os.environ.get("CALLSLA_OUTBOX", "/var/spool/callsla-outbox"))))
    try:
        await run_script(session, {"officer_call": flows.officer_call})
    finally:
        await session.close()


def main() -> int:
    if len(sys.argv) < 2:
        print("usage: callsla-agi SCRIPT [ARGS...]  (run by Asterisk's AGI())", file=sys.stderr)
        return 2
    asyncio.run(run_classic(sys.argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
