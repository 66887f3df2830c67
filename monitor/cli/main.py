"""The `callsla` command: one entry point, one sub-command per job."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from agi_scripts.cli import add_commands as add_call_flow_commands
from agi_scripts.prompt_build import PromptBuildError
from agi_scripts.prompts import PromptError
from dashboards.cli import add_commands as add_dashboard_commands
from monitor import __version__
from monitor.ami import AmiError
from monitor.cli.officers import add_commands as add_officer_commands
from monitor.cli.parser import CallslaArgumentParser
from monitor.cli.purge import add_commands as add_purge_commands
from monitor.cli.reports import add_commands as add_report_commands
from monitor.cli.users import add_commands as add_user_commands
from monitor.core.charter import CharterError, load_charter
from monitor.core.directory import DirectoryError
from monitor.core.settings import SettingsError, add_settings_arguments, settings_from_sources
from monitor.core.terminal_text import for_terminal
from monitor.store import StoreError
from pbx_setup.cli import add_commands as add_pbx_commands
from pbx_setup.services_cli import add_commands as add_service_commands


def _run_monitor(args: argparse.Namespace) -> int:
    from monitor.live.service import MonitorService

    settings = settings_from_sources(args)
    charter = load_charter(settings.charter)
    ami = settings.ami
    mqtt = settings.mqtt
    logging.getLogger("callsla").info(
        "monitor pbx=%s ami=%s mqtt=%s db=%s metrics=http://%s:%s/metrics charter=%s"
        " queue_log=%s cdr_csv=%s",
        settings.pbx,
        ami.redacted() if ami else "-",
        mqtt.redacted() if mqtt else "-",
        settings.db_url.split("@")[-1],
        *settings.metrics_listen,
        charter.version,
        settings.queue_log or "-",
        settings.cdr_csv or "-",
    )
    asyncio.run(MonitorService(settings, charter).run())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = CallslaArgumentParser(prog="callsla", description=__doc__)
    parser.add_argument("--version", action="version", version=f"callsla {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    monitor = commands.add_parser("monitor", help="run the live monitor (AMI, MQTT -> /metrics)")
    add_settings_arguments(monitor)
    monitor.set_defaults(run=_run_monitor)
    add_call_flow_commands(commands)
    add_report_commands(commands)
    add_officer_commands(commands)
    add_purge_commands(commands)
    add_user_commands(commands)
    add_dashboard_commands(commands)
    add_pbx_commands(commands)
    add_service_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        code: int = args.run(args)
    except (SettingsError, CharterError, StoreError, DirectoryError, AmiError, PromptError,
            PromptBuildError) as exc:
        print(f"callsla: {for_terminal(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
