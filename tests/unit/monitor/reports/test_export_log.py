"""The export log's hash chain: an edited, deleted or reordered entry is found; the account
logged is the process's, whatever $LOGNAME says."""

from __future__ import annotations

import dataclasses
import itertools
import os
import pwd
from datetime import UTC, date, datetime, timedelta

import pytest

from monitor.reports.export_log import (
    ChainHead,
    ExportLogEntry,
    chained,
    process_user,
    verify_chain,
)

T0 = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)


def _entry(n: int) -> ExportLogEntry:
    return ExportLogEntry(exported_at=T0 + timedelta(minutes=n), exported_by="auditor",
                          host="h", kind="export", first_day=date(2026, 7, 1),
                          last_day=date(2026, 9, 30), department="", queue="", format="csv",
                          path=f"/tmp/q3-{n}.csv", row_count=100 + n, masked=n != 2,
                          reason="" if n != 2 else "ticket 42", export_id=f"x{n}")


def _chain(count: int) -> list[ExportLogEntry]:
    out: list[ExportLogEntry] = []
    for n in range(1, count + 1):
        head = ChainHead(out[-1].seq or 0, out[-1].entry_hash) if out else None
        out.append(chained(_entry(n), head))
    return out


def test_an_intact_chain_verifies_and_names_its_head() -> None:
    entries = _chain(4)
    check = verify_chain(list(reversed(entries)))
    assert check.problems == []
    assert check.head == ChainHead(4, entries[-1].entry_hash)
    assert (check.chained, check.unchained) == (4, 0)
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    assert entries[0].previous_hash == ""
    assert all(b.previous_hash == a.entry_hash for a, b in itertools.pairwise(entries))


@pytest.mark.parametrize("field", ["exported_by", "row_count", "masked", "reason", "path",
                                   "exported_at"])
def test_an_edited_entry_is_found(field: str) -> None:
    entries = _chain(4)
    value = {"exported_by": "someone", "row_count": 1, "masked": True, "reason": "",
             "path": "/elsewhere", "exported_at": T0}[field]
    entries[1] = dataclasses.replace(entries[1], **{field: value})
    assert verify_chain(entries).problems == ["entry 2 (x2) was edited: its hash no longer "
                                              "matches its fields"]


def test_a_deleted_entry_is_found() -> None:
    entries = _chain(4)
    problems = verify_chain(entries[:1] + entries[2:]).problems
    assert problems[0] == "entries 2..2 are missing (deleted)"
    assert "entry 3 (x3) does not follow the entry before it" in problems[1]
    assert verify_chain(entries[1:]).problems[0] == "entries 1..1 are missing (deleted)"


def test_an_entry_rehashed_after_an_edit_breaks_the_next_link() -> None:
    entries = _chain(3)
    edited = dataclasses.replace(entries[1], masked=True, reason="")
    entries[1] = chained(edited, ChainHead(1, entries[0].entry_hash))
    problems = verify_chain(entries).problems
    assert problems == ["entry 3 (x3) does not follow the entry before it: an entry was "
                        "deleted or replaced"]


def test_dropping_the_newest_entries_changes_the_head() -> None:
    """A truncated log is a valid shorter chain: only a noted head (reports state it) shows it."""
    entries = _chain(4)
    check = verify_chain(entries[:2])
    assert check.problems == []
    assert check.head != verify_chain(entries).head


def test_entries_from_before_the_chain_are_counted_apart() -> None:
    check = verify_chain([_entry(9), *_chain(2)])
    assert (check.problems, check.chained, check.unchained) == ([], 2, 1)


def test_the_user_is_the_process_account_not_logname(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGNAME", "mallory")
    monkeypatch.setenv("USER", "mallory")
    assert process_user() == pwd.getpwuid(os.getuid()).pw_name != "mallory"
