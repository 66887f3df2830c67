"""What a backfill read produces, and reading a growing log file from a byte offset."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from monitor.core.records import CallLeg, PersonRing


@dataclass
class BackfillWindow:
    """Legs rebuilt from a log, ends of legs that began before the read (queue_log), and the
    members' rings the log shows, under the log's leg ids (the recorder maps them)."""

    legs: dict[str, CallLeg] = field(default_factory=dict)
    ends: list[tuple[str, object]] = field(default_factory=list)  # (leg_id, the end's record)
    rings: list[PersonRing] = field(default_factory=list)
    bad_lines: int = 0
    lines: int = 0
    first_bad: str = ""  # the first bad line's error, for the log

    def refuse(self, error: ValueError) -> None:
        """A line that does not parse: counted, and the first one's error kept."""
        self.bad_lines += 1
        self.first_bad = self.first_bad or str(error)


@dataclass(frozen=True)
class FileMark:
    """How far a log file was read: its inode (None: not known, a mark from an older callsla)
    and a byte offset. Stored as text: `inode:offset`, or a bare offset."""

    inode: int | None
    offset: int

    @classmethod
    def parse(cls, text: str) -> FileMark:
        inode, _, offset = text.rpartition(":")
        if not _digits(offset) or (inode and not _digits(inode)):
            return cls(None, 0)
        return cls(int(inode) if inode else None, int(offset))

    def text(self) -> str:
        return str(self.offset) if self.inode is None else f"{self.inode}:{self.offset}"


def file_inode(path: Path) -> int | None:
    """The file's inode now; None when it is missing."""
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def start_offset(path: Path, mark: FileMark) -> tuple[int | None, int]:
    """(the file's inode, where to read from): the mark's offset in the same file; 0 in a new
    file (a rotation renames the old one and the PBX starts another, which may already be
    longer than the old offset, so size alone cannot tell)."""
    inode = file_inode(path)
    if mark.inode is not None and inode is not None and inode != mark.inode:
        return inode, 0
    return inode, mark.offset


def read_complete_lines(path: Path, offset: int) -> tuple[list[bytes], int]:
    """Lines from `offset` up to the last newline, and the offset after them. A file shorter
    than the offset was rotated: read it from the start. A missing file reads as empty."""
    try:
        size = os.path.getsize(path)
    except OSError:
        return [], offset
    if size < offset:
        offset = 0
    with path.open("rb") as f:
        f.seek(offset)
        data = f.read()
    end = data.rfind(b"\n") + 1
    return data[:end].splitlines(), offset + end


def _digits(text: str) -> bool:
    """Only ASCII digits: `str.isdigit()` alone also takes '²', which `int()` refuses."""
    return text.isascii() and text.isdigit()
