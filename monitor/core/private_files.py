"""Files that hold caller data (PDPA 2010) are readable by their owner only, whatever the umask.

The store, the call-flow outbox and every export hold caller numbers and names: a file any
local user can read bypasses masking and the export log. Modes are set with `fchmod`/`chmod`
after creation, so a permissive umask (e.g. 000 in a container) cannot widen them.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

PRIVATE_MODE = 0o600


def create_private(path: Path) -> int:
    """Create `path` (it must not exist) as 0600 and return a descriptor open for writing."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    try:
        os.fchmod(fd, PRIVATE_MODE)
    except OSError:
        os.close(fd)
        raise
    return fd


def write_private(path: Path, body: bytes) -> None:
    """Write a new file of caller data, 0600 from its first byte."""
    fd = create_private(path)
    with os.fdopen(fd, "wb") as handle:
        handle.write(body)


def ensure_private(path: Path) -> None:
    """Create `path` empty as 0600 if missing; an existing file loses any access for others.

    Group access on an existing file is left alone: an operator may share the store with an
    auditors' group on purpose. Access for every local user is never right for caller data.
    """
    try:
        os.close(create_private(path))
        return
    except FileExistsError:
        pass
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o007:
        try:
            os.chmod(path, mode & ~0o007)
        except OSError as exc:
            log.warning("%s is readable by every local user (mode %03o) and cannot be "
                        "changed: %s", path, mode, exc.strerror or exc)
            return
        log.warning("%s was readable by every local user (mode %03o); now %03o",
                    path, mode, mode & ~0o007)
