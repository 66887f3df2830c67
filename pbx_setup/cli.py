"""`callsla pbx install` and `callsla pbx check`: parse arguments, call pbx_setup."""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

from monitor.core.charter import load_charter
from monitor.core.settings import Settings, add_settings_arguments, settings_from_sources
from pbx_setup.ami_check import ami_problems
from pbx_setup.check import PbxFiles, Severity, check_files
from pbx_setup.installer import InstallTarget, install

# (flag, environment variable, default): every file and folder has both.
_SOURCES = {
    "--etc": ("CALLSLA_ASTERISK_ETC", "/etc/asterisk"),
    "--sounds": ("CALLSLA_ASTERISK_SOUNDS", "/usr/share/asterisk/sounds"),
    "--moh": ("CALLSLA_ASTERISK_MOH", "/usr/share/asterisk/moh"),
    "--data-dir": ("CALLSLA_ASTERISK_DATA", "/usr/share/asterisk"),
    "--log-dir": ("CALLSLA_ASTERISK_LOG", "/var/log/asterisk"),
    "--directory": ("CALLSLA_DIRECTORY", ""),
    "--texts": ("CALLSLA_PROMPT_TEXTS", ""),
    "--prompt-cache": ("CALLSLA_PROMPT_CACHE", ""),
    "--dpkg-status": ("CALLSLA_DPKG_STATUS", "/var/lib/dpkg/status"),
}


def _path(args: argparse.Namespace, flag: str) -> Path | None:
    env, default = _SOURCES[flag]
    value = getattr(args, flag.lstrip("-").replace("-", "_")) or os.environ.get(env) or default
    return Path(value) if value else None


def _need(args: argparse.Namespace, flag: str) -> Path:
    path = _path(args, flag)
    assert path is not None  # these flags have a default
    return path


def _install(args: argparse.Namespace) -> int:
    target = InstallTarget(
        etc=_need(args, "--etc"), sounds=None if args.no_prompts else _path(args, "--sounds"),
        moh=_path(args, "--moh"), log_dir=_path(args, "--log-dir"),
        directory_file=_path(args, "--directory"), texts_file=_path(args, "--texts"),
        prompt_cache=_path(args, "--prompt-cache"), dpkg_status=_need(args, "--dpkg-status"))
    for line in install(target, dry_run=args.dry_run):
        print(line)
    return 0


def _part_users(settings: Settings) -> dict[str, str]:
    """The AMI user each part is given (CALLSLA_AMI_URL the monitor's, and the parts' own)."""
    given = {"monitor": settings.ami, "agi-server": settings.agi_ami if settings.agi_ami_url
             else None, "officer": settings.officer_ami if settings.officer_ami_url else None}
    return {part: endpoint.username for part, endpoint in given.items() if endpoint}


def _check(args: argparse.Namespace) -> int:
    settings = settings_from_sources(args)
    charter = load_charter(settings.charter)
    files = PbxFiles(etc=_need(args, "--etc"), log_dir=_need(args, "--log-dir"),
                     data_dir=_need(args, "--data-dir"), sounds=_need(args, "--sounds"),
                     answer_seconds=int(charter.answer_within_seconds),
                     customer_contexts=settings.customer_context_names,
                     texts_file=_path(args, "--texts"), part_users=_part_users(settings))
    problems = check_files(files)
    if settings.ami is not None:
        problems += asyncio.run(ami_problems(settings.ami))
    for problem in problems:
        print(problem.line())
    errors = sum(p.severity is Severity.ERROR for p in problems)
    print(f"{errors} errors, {len(problems) - errors} warnings")
    return 1 if errors else 0


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pbx = commands.add_parser("pbx", help="put callsla onto a site's Asterisk, and check it")
    sub = pbx.add_subparsers(dest="pbx_command", required=True)
    inst = sub.add_parser("install", help="write asterisk_conf/, local/ skeletons, prompts, "
                                          "music on hold; never overwrite a site's change")
    chk = sub.add_parser("check", help="what would make a figure wrong or a caller hear silence")
    for parser, flags in ((inst, ("--etc", "--sounds", "--moh", "--log-dir", "--directory",
                                  "--texts", "--prompt-cache", "--dpkg-status")),
                          (chk, ("--etc", "--sounds", "--data-dir", "--log-dir", "--texts"))):
        for flag in flags:
            env, default = _SOURCES[flag]
            parser.add_argument(flag, default=None,
                                help=f"overrides ${env} (default {default or 'the packaged one'})")
    inst.add_argument("--dry-run", action="store_true", help="show what would change, as diffs")
    inst.add_argument("--no-prompts", action="store_true", help="skip building the prompts")
    inst.set_defaults(run=_install)
    add_settings_arguments(chk)
    chk.set_defaults(run=_check)
