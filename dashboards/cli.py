"""`callsla dashboards push`: the dashboards' sub-commands, registered on the `callsla` command."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from dashboards import DASHBOARD_DIR


def _push(args: argparse.Namespace) -> int:
    from grafana_client.api import GrafanaApi

    from dashboards.push import PushError, load_dashboards, push_dashboards

    url = args.url or os.environ.get("GRAFANA_URL")
    token = args.token or os.environ.get("GRAFANA_TOKEN")
    if not url:
        print("callsla dashboards push: give --url or set GRAFANA_URL", file=sys.stderr)
        return 2
    try:
        api = GrafanaApi.from_url(url, credential=token)
        result = push_dashboards(api, load_dashboards(args.dir), folder_uid=args.folder,
                                 folder_title=args.folder_title)
    except PushError as exc:
        print(f"callsla dashboards push: {exc}", file=sys.stderr)
        return 1
    if result.folder_created:
        print(f"created folder {args.folder}")
    for uid in result.uploaded:
        print(f"uploaded {uid}")
    for uid in result.unchanged:
        print(f"unchanged {uid}")
    return 0


def add_commands(commands: Any) -> None:
    """Called by monitor.cli.main with its sub-parsers."""
    dashboards = commands.add_parser("dashboards", help="Grafana dashboards shipped with callsla")
    sub = dashboards.add_subparsers(dest="dashboards_command", required=True, metavar="ACTION")
    push = sub.add_parser("push", help="upload the dashboards into a Grafana folder (idempotent)")
    push.add_argument("--url", help="Grafana's URL, e.g. http://grafana:3000 (or $GRAFANA_URL)")
    push.add_argument("--token", help="a service-account token (or $GRAFANA_TOKEN)")
    push.add_argument("--folder", default="callsla", help="folder uid (default: callsla)")
    push.add_argument("--folder-title", default="callsla", help="folder title if created")
    push.add_argument("--dir", type=Path, default=DASHBOARD_DIR,
                      help="folder of dashboard JSON (default: the dashboards shipped)")
    push.set_defaults(run=_push)
