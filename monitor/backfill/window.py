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
