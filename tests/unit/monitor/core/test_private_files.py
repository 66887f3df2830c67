"""Caller-data files are 0600 whatever the umask; an existing file loses access for others."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from monitor.core.private_files import ensure_private, write_private


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("permissive_umask")
def test_new_files_are_owner_only_under_umask_000(tmp_path: Path) -> None:
    write_private(tmp_path / "event.json", b"{}")
    ensure_private(tmp_path / "calls.db")
    assert _mode(tmp_path / "event.json") == 0o600
    assert (tmp_path / "event.json").read_bytes() == b"{}"
    assert _mode(tmp_path / "calls.db") == 0o600


def test_write_private_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "taken").write_bytes(b"first")
    with pytest.raises(FileExistsError):
        write_private(tmp_path / "taken", b"second")
    assert (tmp_path / "taken").read_bytes() == b"first"


def test_an_existing_world_readable_file_loses_access_for_others(tmp_path: Path) -> None:
    path = tmp_path / "calls.db"
    path.write_bytes(b"data")
    os.chmod(path, 0o664)
    ensure_private(path)
    assert _mode(path) == 0o660  # a group chosen by the operator stays
    assert path.read_bytes() == b"data"
