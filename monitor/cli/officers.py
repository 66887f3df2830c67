"""`callsla officer list|set-status`: an officer's in/out/leave status, live in Asterisk's AstDB.

The status is written with AMI `DBPut` (family `callsla`, key `officer/<ext>/status`), which the
call flows read on every call: the change applies to the next call without a reload. The event
`officer_status_changed` is queued in the call flows' outbox (CALLSLA_OUTBOX) for MQTT.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime
from pathlib import Path

from monitor.ami import AmiClient
from monitor.ami.officer_status import officer_status, set_officer_status
from monitor.core.charter import load_charter
from monitor.core.directory import DirectoryError, OfficerStatus, load_directory
from monitor.core.settings import SettingsError, add_settings_arguments, settings_from_sources


def _ami(args: argparse.Namespace) -> AmiClient:
    endpoint = settings_from_sources(args).officer_ami
    if endpoint is None:
        raise SettingsError("CALLSLA_OFFICER_AMI_URL (or CALLSLA_AMI_URL): needed to read or "
                            "change an officer's status")
    return AmiClient.from_endpoint(endpoint)


async def _set_status(args: argparse.Namespace) -> int:
    directory = load_directory(Path(args.directory) if args.directory else None)
    officer = directory.officer(args.extension)
    if officer is None:
        raise DirectoryError(f"no officer at extension {args.extension!r} in the directory")
    status = OfficerStatus(args.status)
    async with _ami(args) as ami:
        await set_officer_status(ami, officer.extension, status)
    _queue_event(args, officer.extension, officer.department, status)
    print(f"{officer.extension} {officer.name}: {status.value}")
    return 0


def _queue_event(args: argparse.Namespace, extension: str, department: str,
                 status: OfficerStatus) -> None:
    from agi_scripts.outbox import Outbox, outbox_folder
    from monitor.core.events import OfficerStatusChanged

    settings = settings_from_sources(args)
    charter = load_charter(settings.charter)
    Outbox(outbox_folder()).put(OfficerStatusChanged(
        pbx=settings.pbx, timestamp=datetime.now(charter.timezone), call_id="", uniqueid="",
        department=department, officer=extension, status=status.value))


async def _list(args: argparse.Namespace) -> int:
    directory = load_directory(Path(args.directory) if args.directory else None)
    async with _ami(args) as ami:
        for officer in directory.officers.values():
            live = await officer_status(ami, officer.extension) or officer.status
            print(f"{officer.extension:>6}  {live.value:<5}  {officer.department:<12}  "
                  f"{officer.name}")
    return 0


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    officer = commands.add_parser("officer", help="the directory of officers and their status")
    sub = officer.add_subparsers(dest="officer_command", required=True)
    set_status = sub.add_parser("set-status", help="in, out or leave; applies to the next call")
    set_status.add_argument("extension")
    set_status.add_argument("status", choices=[s.value for s in OfficerStatus])
    listing = sub.add_parser("list", help="every officer with the live status")
    for parser, run in ((set_status, _set_status), (listing, _list)):
        add_settings_arguments(parser)
        parser.add_argument("--directory", default=None, help="overrides $CALLSLA_DIRECTORY")
        parser.set_defaults(run=lambda args, run=run: asyncio.run(run(args)))
