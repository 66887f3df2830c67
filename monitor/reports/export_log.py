"""The export log's entries and their hash chain: who took records out, and proof nobody edited it.

Each entry stores the hash of the entry before it and its own SHA-256 over every field plus that
previous hash (`entry_hash`), numbered from 1 (`seq`). Editing an entry breaks its own hash;
deleting one leaves a gap in `seq` and a `previous_hash` that names no entry. Removing the
newest entries leaves a valid shorter chain: the chain's head (number and hash) is printed by
`callsla export-log verify` and stated in every quarterly report, so a kept report or a noted
head shows the truncation. The chain proves integrity against edits made with SQL, not against
someone who rewrites the whole chain and every report kept since.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pwd
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from monitor.reports.periods import Period

GENESIS = ""  # the previous hash of entry 1


@dataclass(frozen=True)
class ExportLogEntry:
    """Who took which records out, when, for which range, masked or not (PDPA 2010)."""

    exported_at: datetime
    exported_by: str
    host: str
    kind: str  # export | export per call | report
    first_day: date
    last_day: date
    department: str
    queue: str
    format: str
    path: str
    row_count: int
    masked: bool
    reason: str
    export_id: str = ""
    seq: int | None = None  # None: logged before the chain existed (schema < 3)
    previous_hash: str = ""
    entry_hash: str = ""


@dataclass(frozen=True)
class ChainHead:
    """The newest chained entry: note it, and a later truncation of the log shows."""

    seq: int
    entry_hash: str


def process_user() -> str:
    """The account the process runs as, from its uid: $LOGNAME and $USER can say anything."""
    uid = os.getuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def new_log_entry(*, kind: str, period: Period, fmt: str, path: str, row_count: int,
                  masked: bool, reason: str = "", department: str = "",
                  queue: str = "", exported_by: str | None = None) -> ExportLogEntry:
    """`exported_by` names who asked (the console's user); None: the process's own account."""
    return ExportLogEntry(exported_at=datetime.now(UTC),
                          exported_by=exported_by or process_user(),
                          host=socket.gethostname(), kind=kind, first_day=period.first_day,
                          last_day=period.last_day, department=department, queue=queue,
                          format=fmt, path=path, row_count=row_count, masked=masked,
                          reason=reason, export_id=uuid.uuid4().hex)


def entry_hash(entry: ExportLogEntry, *, seq: int, previous_hash: str) -> str:
    """SHA-256 of the entry's fields, its number and the previous entry's hash (canonical JSON:
    times in UTC with microseconds, as both databases keep them)."""
    fields = {
        "seq": seq, "previous_hash": previous_hash, "export_id": entry.export_id,
        "exported_at": entry.exported_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "exported_by": entry.exported_by, "host": entry.host, "kind": entry.kind,
        "first_day": entry.first_day.isoformat(), "last_day": entry.last_day.isoformat(),
        "department": entry.department, "queue": entry.queue, "format": entry.format,
        "path": entry.path, "row_count": entry.row_count, "masked": entry.masked,
        "reason": entry.reason,
    }
    text = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def chained(entry: ExportLogEntry, head: ChainHead | None) -> ExportLogEntry:
    """The entry as the next link after `head` (None: the first entry)."""
    seq = head.seq + 1 if head else 1
    previous = head.entry_hash if head else GENESIS
    return dataclasses.replace(entry, seq=seq, previous_hash=previous,
                               entry_hash=entry_hash(entry, seq=seq, previous_hash=previous))


@dataclass(frozen=True)
class ChainCheck:
    """What `verify_chain` found: problems (empty when intact), the head, unchained entries."""

    problems: list[str]
    head: ChainHead | None
    chained: int
    unchained: int


def verify_chain(entries: list[ExportLogEntry]) -> ChainCheck:
    """Check every chained entry's hash, number and link; `entries` in any order."""
    links = sorted((e for e in entries if e.seq is not None), key=lambda e: e.seq or 0)
    problems: list[str] = []
    expected_seq, previous = 1, GENESIS
    for entry in links:
        assert entry.seq is not None
        if entry.seq != expected_seq:
            problems.append(f"entries {expected_seq}..{entry.seq - 1} are missing (deleted)"
                            if entry.seq > expected_seq else f"entry {entry.seq} is repeated")
        if entry.previous_hash != previous:
            problems.append(f"entry {entry.seq} ({entry.export_id}) does not follow the entry "
                            "before it: an entry was deleted or replaced")
        if entry.entry_hash != entry_hash(entry, seq=entry.seq,
                                          previous_hash=entry.previous_hash):
            problems.append(f"entry {entry.seq} ({entry.export_id}) was edited: its hash no "
                            "longer matches its fields")
        expected_seq, previous = entry.seq + 1, entry.entry_hash
    head = ChainHead(links[-1].seq or 0, links[-1].entry_hash) if links else None
    return ChainCheck(problems=problems, head=head, chained=len(links),
                      unchained=len(entries) - len(links))
