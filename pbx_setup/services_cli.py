"""`callsla services install`: parse arguments, call pbx_setup.service_units."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pbx_setup.service_units import SERVICES, ServiceInstallError, ServiceTarget, install_services

_DEFAULTS = ServiceTarget()
# (flag, environment variable, default)
_SOURCES = (
    ("--unit-dir", "CALLSLA_UNIT_DIR", _DEFAULTS.unit_dir),
    ("--env-dir", "CALLSLA_ENV_DIR", _DEFAULTS.env_dir),
    ("--callsla", "CALLSLA_COMMAND", _DEFAULTS.callsla),
)


def _install(args: argparse.Namespace) -> int:
    paths = {flag: Path(getattr(args, flag.lstrip("-").replace("-", "_"))
                        or os.environ.get(env) or default)
             for flag, env, default in _SOURCES}
    target = ServiceTarget(unit_dir=paths["--unit-dir"], env_dir=paths["--env-dir"],
                           callsla=paths["--callsla"])
    try:
        lines = install_services(target, dry_run=args.dry_run)
    except ServiceInstallError as exc:
        print(f"callsla: {exc}", file=sys.stderr)
        return 2
    for line in lines:
        print(line)
    if not args.dry_run:
        print("next: fill in the environment files, then `systemctl daemon-reload && "
              f"systemctl enable --now {' '.join(SERVICES)}`")
    return 0


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    services = commands.add_parser("services", help="run the monitor and the agi-server "
                                                    "as systemd services")
    sub = services.add_subparsers(dest="services_command", required=True)
    inst = sub.add_parser("install", help="write their units and 0600 environment files "
                                          "(a site's environment file is kept)")
    for flag, env, default in _SOURCES:
        inst.add_argument(flag, default=None, help=f"overrides ${env} (default {default})")
    inst.add_argument("--dry-run", action="store_true", help="say what would be written")
    inst.set_defaults(run=_install)
