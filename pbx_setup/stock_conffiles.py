"""Asterisk's files as Debian's packages installed them, by dpkg's conffile md5sums: a plain
Asterisk's /etc/asterisk is full of them, and a stock sample is not a site's change."""

from __future__ import annotations

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
