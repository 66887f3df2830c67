"""Asterisk's queue_log (`epoch|uniqueid|queue|agent|EVENT|data...`) read into front-desk legs.

Asterisk writes one line per queue step; the lines of a caller's entry (ENTERQUEUE, then
CONNECT, ABANDON, EXITWITHTIMEOUT, EXITEMPTY or EXITWITHKEY) rebuild the same `CallLeg`, with
the same `leg_id`, that the live AMI path builds, so the recorder can merge and never count
twice. queue_log times are whole seconds; answered_at is offered_at + the logged hold time.

Members' rings: RINGNOANSWER (rang out, busy) and RINGCANCELED (the caller gave up) are a
member's `not_answered` ring, CONNECT the answerer's `answered` ring, as app_queue's AMI
events are live. A member cancelled because another answered (`answered_elsewhere` live) leaves
no line, so a backfill cannot show it; nor a ring of an entry that joined before the read and
had not ended by its end (no line of that read names the entry's join second).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.backfill.window import BackfillWindow, read_complete_lines
from monitor.core.records import (
    OTHER_PERSON,
    CallLeg,
    LegKind,
    MissedCause,
    Outcome,
    PersonRing,
    RingResult,
    queue_leg_id,
)

QueueLogWindow = BackfillWindow

_ENDS = {"ABANDON": MissedCause.ABANDONED, "EXITWITHTIMEOUT": MissedCause.TIMEOUT,
         "EXITEMPTY": MissedCause.NO_AGENTS, "EXITWITHKEY": MissedCause.OTHER,
         "FULL": MissedCause.NO_AGENTS, "JOINEMPTY": MissedCause.NO_AGENTS}
_RING_ENDS = frozenset({"RINGNOANSWER", "RINGCANCELED"})
USED_EVENTS = frozenset({"ENTERQUEUE", "CONNECT", *_ENDS, *_RING_ENDS})
_NO_MEMBER = "NONE"  # queue_log's agent field on lines no member is part of


class QueueLogError(ValueError):
    """A queue_log line is malformed; the message quotes the line."""


@dataclass(frozen=True)
class QueueLogEntry:
    at: datetime
    uniqueid: str
    queue: str
    agent: str
    event: str
    data: tuple[str, ...]


def parse_queue_log_line(line: str) -> QueueLogEntry:
    parts = line.rstrip("\r\n").split("|")
    if len(parts) < 5:
        raise QueueLogError(f"fewer than 5 fields: {line[:120]!r}")
    epoch, uniqueid, queue, agent, event = parts[:5]
    try:
        at = datetime.fromtimestamp(int(epoch), UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise QueueLogError(f"bad time {epoch[:20]!r}: {line[:120]!r}") from exc
    if not event or not uniqueid:
        raise QueueLogError(f"no event or uniqueid: {line[:120]!r}")
    return QueueLogEntry(at, uniqueid, queue, agent, event, tuple(parts[5:]))


def _seconds(entry: QueueLogEntry, index: int) -> float:
    try:
        value = float(entry.data[index])
    except (IndexError, ValueError) as exc:
        raise QueueLogError(f"{entry.event} of {entry.uniqueid}: no time in field "
                            f"{index + 6}") from exc
    if not 0 <= value < 10**7:
        raise QueueLogError(f"{entry.event} of {entry.uniqueid}: time {value} out of range")
    return value


def same_entry_ids(leg_id: str) -> list[str]:
    """The ids one queue entry may have: the live path stamps AMI's join second, queue_log its
    ENTERQUEUE second, which may be one earlier (monitor.core.records.queue_leg_id)."""
    base, sep, second = leg_id.rpartition("@")
    if not sep or not (second.isascii() and second.isdigit()):
        return [leg_id]
    return [leg_id, *(f"{base}@{int(second) + d}" for d in (1, -1))]


def _joined_at(entry: QueueLogEntry) -> datetime:
    """When the caller of an end line joined: its time less the wait it logs (whole seconds,
    from the same clock as ENTERQUEUE)."""
    index = {"CONNECT": 0, "EXITWITHKEY": 3}.get(entry.event, 2)
    wait = _seconds(entry, index) if entry.event not in ("FULL", "JOINEMPTY") else 0.0
    return entry.at - timedelta(seconds=wait)


def apply_end(leg: CallLeg, end: QueueLogEntry) -> None:
    """Finish a leg from its CONNECT or exit line."""
    if end.event == "CONNECT":
        leg.answered_at = leg.offered_at + timedelta(seconds=_seconds(end, 0))
        leg.answered_by, leg.outcome = end.agent, Outcome.ANSWERED
    else:
        wait_index = 3 if end.event == "EXITWITHKEY" else 2
        wait = _seconds(end, wait_index) if end.event in ("ABANDON", "EXITWITHTIMEOUT",
                                                          "EXITEMPTY", "EXITWITHKEY") else 0.0
        leg.ended_at = max(end.at, leg.offered_at + timedelta(seconds=wait))
        leg.outcome, leg.missed_cause = Outcome.MISSED, _ENDS[end.event]


class _Read:
    """One read's memory of the entries its lines belong to."""

    def __init__(self) -> None:
        self.window = QueueLogWindow()
        self.joined: dict[tuple[str, str], str] = {}  # (uniqueid, queue) -> last entry's id
        # Rings of an entry that joined before the read, until its end line names its id.
        self.unplaced: dict[tuple[str, str], list[QueueLogEntry]] = {}
        self.ring_ids: set[str] = set()


class QueueLogReader:
    """Reads complete lines from a byte offset; a shorter file means it was rotated: start over."""

    def __init__(self, path: Path, *, pbx: str) -> None:
        self.path = path
        self.pbx = pbx

    def read(self, offset: int) -> tuple[QueueLogWindow, int]:
        """Parse from `offset` to the last complete line; returns the window and the new offset."""
        read = _Read()
        raw_lines, new_offset = read_complete_lines(self.path, offset)
        for raw in raw_lines:
            read.window.lines += 1
            try:
                self._take(parse_queue_log_line(raw.decode("utf-8", "replace")), read)
            except QueueLogError as exc:
                read.window.refuse(exc)
        return read.window, new_offset

    def _take(self, entry: QueueLogEntry, read: _Read) -> None:
        if entry.event not in USED_EVENTS:
            return
        window, key = read.window, (entry.uniqueid, entry.queue)
        if entry.event in ("ENTERQUEUE", "FULL", "JOINEMPTY"):
            leg_id = read.joined[key] = queue_leg_id(entry.uniqueid, entry.queue, entry.at)
            window.legs[leg_id] = CallLeg(
                pbx=self.pbx, call_id=entry.uniqueid, leg_id=leg_id, uniqueid=entry.uniqueid,
                kind=LegKind.FRONT_DESK, offered_at=entry.at, queue=entry.queue,
                caller_number=entry.data[1] if len(entry.data) > 1 else "", source="backfill")
            if entry.event != "ENTERQUEUE":
                apply_end(window.legs[leg_id], entry)
            return
        if entry.event in _RING_ENDS:
            if key in read.joined:
                self._ring(read, read.joined[key], entry)
            else:
                read.unplaced.setdefault(key, []).append(entry)
            return
        leg_id = read.joined.get(key) or queue_leg_id(entry.uniqueid, entry.queue,
                                                      _joined_at(entry))
        leg = window.legs.get(leg_id)
        if leg is None:
            window.ends.append((leg_id, entry))
        elif leg.outcome is Outcome.IN_PROGRESS:
            apply_end(leg, entry)
        else:
            return  # a second end of one entry: its rings are already placed
        for ring in read.unplaced.pop(key, []):
            self._ring(read, leg_id, ring)
        if entry.event == "CONNECT":
            self._ring(read, leg_id, entry)

    def _ring(self, read: _Read, leg_id: str, entry: QueueLogEntry) -> None:
        """A member's ring as a `PersonRing` of the log's leg id. CONNECT names the member's
        channel (the live ring's id too); other lines get an id of their own in this read."""
        answered = entry.event == "CONNECT"
        ring_id = entry.data[1] if answered and len(entry.data) > 1 and entry.data[1] else ""
        if not ring_id:
            base = f"queue_log:{int(entry.at.timestamp())}:{entry.event}:{entry.agent}"
            ring_id = base
            n = 1
            while ring_id in read.ring_ids:  # the same line twice (a busy member, retried)
                n += 1
                ring_id = f"{base}#{n}"
        read.ring_ids.add(ring_id)
        person = entry.agent if entry.agent and entry.agent != _NO_MEMBER else OTHER_PERSON
        read.window.rings.append(PersonRing(
            pbx=self.pbx, leg_id=leg_id, ring_id=ring_id, person=person,
            result=RingResult.ANSWERED if answered else RingResult.NOT_ANSWERED,
            ended_at=entry.at, answer_wait_seconds=_seconds(entry, 0) if answered else None))
