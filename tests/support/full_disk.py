"""Filling a (small tmpfs) disk for real, to test what a full disk does."""

from __future__ import annotations

from pathlib import Path


def fill_disk(folder: Path) -> Path:
    """Write a file into `folder` until its disk is full; delete it to free the space."""
    filler = folder / "filler"
    try:
        with filler.open("wb", buffering=0) as handle:
            while True:
                handle.write(b"\0" * 4096)
    except OSError:
        pass
    return filler
