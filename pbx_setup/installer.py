"""`callsla pbx install`: the packaged configuration, local/ skeletons, prompts, music on hold
and the CDR folder onto a site's Asterisk, never overwriting what the site changed."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from agi_scripts.prompt_build import build_prompts
from asterisk_conf import LOCAL_SKELETONS_DIR
from pbx_setup.conf_plan import ConfAction, apply_conf, packaged_conf_files, plan_conf
from pbx_setup.music_on_hold import ensure_music
from pbx_setup.stock_conffiles import DPKG_STATUS, retire_samples, stock_digests

# local/ files that carry secrets (passwords, PINs): readable by Asterisk's group only.
SECRET_SKELETONS = ("manager-users.conf", "pjsip.conf", "voicemail-boxes.conf")


@dataclass(frozen=True, kw_only=True)
class InstallTarget:
    """Where a site's Asterisk keeps things (its asterisk.conf [directories])."""

    etc: Path
    sounds: Path | None = None  # prompts go to <sounds>/callsla; None skips them
    moh: Path | None = None  # the default class's folder (astdatadir/moh); None skips it
    log_dir: Path | None = None  # astlogdir: cdr-csv/ is created in it
    directory_file: Path | None = None
    texts_file: Path | None = None
    prompt_cache: Path | None = None
    dpkg_status: Path = DPKG_STATUS  # the distribution's samples in etc/ are replaced, not kept


def install(target: InstallTarget, *, dry_run: bool = False) -> list[str]:
    """Do (or, dry, describe) every step; return one report line per step, diffs included."""
    report: list[str] = []
    stock = stock_digests(target.dpkg_status)
    steps = plan_conf(target.etc, packaged_conf_files(), stock)
    for step in steps:
        if step.action is ConfAction.UNCHANGED:
            continue
        line = f"{step.action}: {target.etc / step.name}"
        if step.action is ConfAction.KEPT:
            line += f" (changed by the site; the packaged text goes to {step.name}.callsla-new)"
        elif step.action is ConfAction.REPLACE_STOCK:
            line += f" (the distribution's unchanged sample, kept as {step.name}.callsla-orig)"
        report.append(line)
        if dry_run:
            report.append(step.diff().rstrip("\n"))
    if not dry_run:
        apply_conf(target.etc, steps)
    report += retire_samples(target.etc, stock, dry_run=dry_run)
    report += _skeletons(target.etc / "local", dry_run=dry_run)
    if target.sounds is not None:
        out = target.sounds / "callsla"
        if dry_run:
            report.append(f"prompts: would build into {out}")
        else:
            build_prompts(out, directory_file=target.directory_file,
                          texts_file=target.texts_file, cache_dir=target.prompt_cache)
            report.append(f"prompts: built into {out}")
    if target.moh is not None:
        report.append(ensure_music(target.moh, dry_run=dry_run))
    if target.log_dir is not None:
        cdr = target.log_dir / "cdr-csv"
        if not cdr.is_dir():
            report.append(f"cdr: {'would create' if dry_run else 'created'} {cdr}")
            if not dry_run:
                cdr.mkdir(parents=True)  # Asterisk does not create it in its own log folder
                owner = target.log_dir.stat()  # Asterisk (Debian: user asterisk) writes in it
                os.chown(cdr, owner.st_uid, owner.st_gid)
    return report


def _skeletons(local: Path, *, dry_run: bool) -> list[str]:
    lines = []
    for skeleton in sorted(LOCAL_SKELETONS_DIR.glob("*.conf")):
        target = local / skeleton.name
        if target.exists():
            continue
        lines.append(f"{'would write' if dry_run else 'wrote'} skeleton: {target}")
        if not dry_run:
            local.mkdir(parents=True, exist_ok=True)
            target.write_text(skeleton.read_text("utf-8"), "utf-8")
            if skeleton.name in SECRET_SKELETONS:
                target.chmod(0o640)
                # Readable by Asterisk through etc/'s group (Debian: asterisk), which runs as
                # its own user and could not read a root:root 0640 file.
                os.chown(target, -1, local.parent.stat().st_gid)
    return lines
