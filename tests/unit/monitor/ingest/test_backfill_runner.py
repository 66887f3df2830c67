"""A backfill run reads queue_log from its mark; a rotated log (a new file, even one already
longer than the old offset) is read from its start."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from monitor.backfill.window import FileMark
from monitor.core.metrics import create_call_metrics
from monitor.ingest.backfill_runner import backfill_queue_log
from monitor.ingest.recorder import Recorder
from monitor.store import BackfillMark, open_store

BEFORE = """\
1795485505|1.1|frontdesk|NONE|ENTERQUEUE||0311111111|1
1795485507|1.1|frontdesk|Reception 1|CONNECT|2|1.2|2
"""
# After rotation: a new file whose first lines are new calls; it is longer than BEFORE.
AFTER = """\
1795489000|7.1|frontdesk|NONE|ENTERQUEUE||0377777777|1
1795489004|7.1|frontdesk|Reception 1|CONNECT|4|7.2|4
1795489010|8.1|frontdesk|NONE|ENTERQUEUE||0388888888|1
1795489013|8.1|frontdesk|NONE|ABANDON|1|1|3
"""


@pytest.fixture
def recorder(tmp_path: Path) -> Iterator[Recorder]:
    with open_store(f"sqlite:///{tmp_path}/runner.db") as store:
        recorder = Recorder(store=store, metrics=create_call_metrics(CollectorRegistry()),
                            pbx="p")
        recorder.start(queues=["frontdesk"])
        yield recorder


def test_a_rotated_queue_log_longer_than_the_old_offset_is_read_from_the_start(
        recorder: Recorder, tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    log.write_text(BEFORE)
    assert backfill_queue_log(recorder, log).lines == 2
    log.rename(tmp_path / "queue_log.1")  # logrotate, then Asterisk opens a new queue_log
    log.write_text(AFTER)
    assert len(AFTER) > len(BEFORE)
    result = backfill_queue_log(recorder, log)
    assert (result.lines, result.bad_lines) == (4, 0)
    assert recorder.store.count_legs("p") == 3
    legs = recorder.store.legs_between(datetime(2000, 1, 1, tzinfo=UTC),
                                       datetime(2100, 1, 1, tzinfo=UTC))
    assert {leg.caller_number for leg in legs} == {"0311111111", "0377777777", "0388888888"}
    again = backfill_queue_log(recorder, log)  # and the mark now follows the new file
    assert again.lines == 0


def test_a_mark_from_before_inodes_were_kept_still_reads_on(recorder: Recorder,
                                                            tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    log.write_text(BEFORE + AFTER)
    recorder.store.set_backfill_mark(BackfillMark("p", f"queue_log:{log}", str(len(BEFORE)),
                                                  None))
    assert backfill_queue_log(recorder, log).lines == 4
    mark = recorder.store.backfill_mark("p", f"queue_log:{log}")
    assert mark is not None
    assert FileMark.parse(mark.position) == FileMark(log.stat().st_ino, len(BEFORE + AFTER))


@pytest.mark.parametrize(("text", "mark"), [
    ("1234", FileMark(None, 1234)), ("99:1234", FileMark(99, 1234)), ("", FileMark(None, 0)),
    ("x:5", FileMark(None, 0)), ("5:x", FileMark(None, 0))])
def test_file_marks_parse_old_and_new_forms(text: str, mark: FileMark) -> None:
    assert FileMark.parse(text) == mark
    if mark.offset:
        assert FileMark.parse(mark.text()) == mark

