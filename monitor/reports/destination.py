"""Write to a temporary file beside the destination and rename: never a half-written export."""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from monitor.core.private_files import PRIVATE_MODE
from monitor.reports.errors import ReportError


def check_writable(path: Path) -> None:
    """Fail before any work when the destination cannot be written."""
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise ReportError(f"cannot write {path}: it is a folder")
    if not folder.is_dir():
        raise ReportError(f"cannot write {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ReportError(f"cannot write {path}: no permission to write in {folder}")


def os_error_message(path: Path, exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"disk full while writing {path}; nothing was written"
    return f"cannot write {path}: {exc.strerror or exc}"


@contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """Yield a temporary path (0600); on success it becomes `path`, on any failure it is
    removed."""
    check_writable(path)
    try:
        handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial",
                                             dir=path.parent)
    except OSError as exc:
        raise ReportError(os_error_message(path, exc)) from exc
    os.close(handle)
    temp = Path(temp_name)
    try:
        yield temp
        os.chmod(temp, PRIVATE_MODE)  # exports hold personal data; a writer may replace it
        os.replace(temp, path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise ReportError(os_error_message(path, exc)) from exc
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
