"""Asterisk's files as Debian's packages installed them, by dpkg's conffile md5sums: a plain
Asterisk's /etc/asterisk is full of them, and a stock sample is not a site's change."""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath

DPKG_STATUS = Path("/var/lib/dpkg/status")
ASTERISK_ETC = PurePosixPath("/etc/asterisk")


def stock_digests(status: Path = DPKG_STATUS) -> dict[str, str]:
    """The md5 dpkg recorded for each file of /etc/asterisk, by name; empty without dpkg."""
    try:
        text = status.read_text("utf-8", errors="replace")
    except FileNotFoundError:
        return {}
    digests: dict[str, str] = {}
    in_conffiles = False
    for line in text.splitlines():
        if not line.startswith(" "):
            in_conffiles = line.startswith("Conffiles:")
            continue
        fields = line.split()
        # ` /etc/asterisk/queues.conf <md5>` (and maybe `obsolete`): an obsolete one is no
        # longer the package's, so a file still there is not a stock sample.
        if in_conffiles and len(fields) == 2 and PurePosixPath(fields[0]).parent == ASTERISK_ETC:
            digests[PurePosixPath(fields[0]).name] = fields[1]
    return digests


# Samples we ship no replacement for that make Asterisk log a warning at every start with our
# configuration (pbx_config: "users.conf is deprecated and will be removed").
RETIRED_SAMPLES = ("users.conf",)


def retire_samples(etc: Path, stock: dict[str, str], *, dry_run: bool = False) -> list[str]:
    """Move the untouched samples of RETIRED_SAMPLES aside (`<name>.callsla-orig`); a site's
    own version stays where it is."""
    lines = []
    for name in RETIRED_SAMPLES:
        path = etc / name
        if not path.is_file() or stock.get(name) != md5_of(path):
            continue
        lines.append(f"{'would retire' if dry_run else 'retired'}: {path} (the distribution's "
                     f"unchanged sample, unused by callsla, kept as {name}.callsla-orig)")
        if not dry_run:
            path.replace(etc / f"{name}.callsla-orig")
    return lines


def md5_of(path: Path) -> str:
    """dpkg's digest of a conffile: md5 of its bytes (an identity check, not a secret)."""
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
