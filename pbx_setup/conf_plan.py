"""Which packaged Asterisk files to write into a site's etc/, without losing a site's change.

A manifest beside the files (`.callsla-install.json`) holds the hash of what the installer last
wrote: a file that still has that hash is ours to update; a file that differs was changed by
the site, is kept, and the new version goes beside it as `<name>.callsla-new`. A file that is
still the distribution's sample (its package's md5, `stock_conffiles.py`) is no site's
change: it is replaced, and kept as `<name>.callsla-orig`.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from asterisk_conf import CONF_DIR
from pbx_setup.stock_conffiles import md5_of

MANIFEST = ".callsla-install.json"


class ConfAction(StrEnum):
    CREATE = "create"  # not there yet
    UPDATE = "update"  # ours, unchanged by the site, and the package has a newer text
    UNCHANGED = "unchanged"  # already the packaged text
    KEPT = "kept"  # the site changed it: kept; the packaged text goes to <name>.callsla-new
    REPLACE_STOCK = "replace"  # the distribution's untouched sample: kept as <name>.callsla-orig


@dataclass(frozen=True)
class ConfStep:
    name: str
    action: ConfAction
    new_text: str
    old_text: str | None

    def diff(self) -> str:
        """A unified diff from what is there to what the package has (empty when equal)."""
        old = (self.old_text or "").splitlines(keepends=True)
        return "".join(difflib.unified_diff(old, self.new_text.splitlines(keepends=True),
                                            f"etc/{self.name}", f"callsla/{self.name}"))


def packaged_conf_files(source: Path = CONF_DIR) -> dict[str, str]:
    """The Asterisk files the package ships (every `*.conf` of asterisk_conf/), by name."""
    return {p.name: p.read_text("utf-8") for p in sorted(source.glob("*.conf"))}


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def read_manifest(etc: Path) -> dict[str, str]:
    try:
        raw = json.loads((etc / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


def plan_conf(etc: Path, packaged: dict[str, str],
              stock: Mapping[str, str] | None = None) -> list[ConfStep]:
    """One step per packaged file; nothing is written here. `stock`: the md5 of each file as
    the distribution's package installed it, by name."""
    manifest = read_manifest(etc)
    steps = []
    for name, text in packaged.items():
        target = etc / name
        old = target.read_text("utf-8") if target.exists() else None
        if old is None:
            action = ConfAction.CREATE
        elif old == text:
            action = ConfAction.UNCHANGED
        elif manifest.get(name) == _digest(old):
            action = ConfAction.UPDATE
        elif (stock or {}).get(name) == md5_of(target):
            action = ConfAction.REPLACE_STOCK
        else:
            action = ConfAction.KEPT
        steps.append(ConfStep(name, action, text, old))
    return steps


def apply_conf(etc: Path, steps: list[ConfStep]) -> None:
    """Write the steps and record what was written in the manifest."""
    etc.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest(etc)
    for step in steps:
        if step.action is ConfAction.KEPT:
            (etc / f"{step.name}.callsla-new").write_text(step.new_text, "utf-8")
            continue
        if step.action is ConfAction.REPLACE_STOCK:
            (etc / step.name).replace(etc / f"{step.name}.callsla-orig")
        if step.action is not ConfAction.UNCHANGED:
            (etc / step.name).write_text(step.new_text, "utf-8")
        manifest[step.name] = _digest(step.new_text)
    (etc / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", "utf-8")
