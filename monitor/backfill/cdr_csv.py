"""Asterisk's CDR CSV (`cdr-csv/Master.csv`, cdr.conf `loguniqueid = yes`) read into transfer
and direct legs: one leg per `Dial` record that names a destination channel.

CDR times are whole seconds and a Dial record starts when the caller's CDR started (perhaps
before the ring), so a leg the live feed already has keeps its live times; the CDR supplies
only what the live feed missed. Kinds and outcomes come from the caller's other records in the
same read: a `Queue` record before the dial makes it a transfer; after an unanswered transfer,
a later `Queue` record means returned and a `VoiceMail` record means a message was left.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from monitor.backfill.window import BackfillWindow, read_complete_lines
from monitor.core.records import CallLeg, LegKind, MissedCause, Outcome, dial_leg_id

# Columns of cdr_csv with loguniqueid (and optionally loguserfield) on.
_COLUMNS = ("accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel",
            "lastapp", "lastdata", "start", "answer", "end", "duration", "billsec",
            "disposition", "amaflags", "uniqueid")


class CdrError(ValueError):
    """A CDR line is malformed; the message says which field."""


@dataclass(frozen=True)
class CdrRecord:
    src: str
    channel: str
    dstchannel: str
    lastapp: str
    lastdata: str
    start: datetime
    answer: datetime | None
    end: datetime
    duration: float
    disposition: str
    uniqueid: str


def _time(value: str, zone: tzinfo) -> datetime:
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=zone)
    except ValueError as exc:
        raise CdrError(f"bad time {value[:30]!r}") from exc


def parse_cdr_line(line: str, *, zone: tzinfo = UTC) -> CdrRecord:
    """One CSV line; `zone` is UTC when cdr.conf says `usegmtime = yes` (as asterisk_conf does)."""
    try:
        fields = next(csv.reader([line]))
    except (csv.Error, StopIteration) as exc:
        raise CdrError(f"not a CSV line: {line[:80]!r}") from exc
    if len(fields) < len(_COLUMNS):
        raise CdrError(f"{len(fields)} fields, need {len(_COLUMNS)} (loguniqueid = yes)")
    v = dict(zip(_COLUMNS, fields, strict=False))
    try:
        duration = float(v["duration"])
    except ValueError as exc:
        raise CdrError(f"bad duration {v['duration'][:20]!r}") from exc
    if not v["uniqueid"]:
        raise CdrError("no uniqueid (set loguniqueid = yes in cdr.conf)")
    return CdrRecord(src=v["src"], channel=v["channel"], dstchannel=v["dstchannel"],
                     lastapp=v["lastapp"], lastdata=v["lastdata"], start=_time(v["start"], zone),
                     answer=_time(v["answer"], zone) if v["answer"] else None,
                     end=_time(v["end"], zone), duration=duration,
                     disposition=v["disposition"], uniqueid=v["uniqueid"])


def _dial_timeout(lastdata: str) -> float | None:
    """Dial(target,timeout,...): the ring time the dialplan allowed, if it says."""
    parts = lastdata.split(",")
    try:
        return float(parts[1]) if len(parts) > 1 and parts[1] else None
    except ValueError:
        return None


def _officer(dstchannel: str) -> str:
    """`PJSIP/2001-0000002a` -> 2001; `Local/r2@ctx-00000002;1` -> r2 (as the live feed)."""
    resource = dstchannel.partition("/")[2] or dstchannel
    if "@" in resource:
        return resource.partition("@")[0]
    return resource.rpartition("-")[0] or resource


class CdrReader:
    """Reads Master.csv from a byte offset, like `QueueLogReader`."""

    def __init__(self, path: Path, *, pbx: str, zone: tzinfo = UTC) -> None:
        self.path = path
        self.pbx = pbx
        self.zone = zone

    def read(self, offset: int) -> tuple[BackfillWindow, int]:
        window = BackfillWindow()
        raw_lines, new_offset = read_complete_lines(self.path, offset)
        records: list[CdrRecord] = []
        for raw in raw_lines:
            window.lines += 1
            try:
                records.append(parse_cdr_line(raw.decode("utf-8", "replace"), zone=self.zone))
            except CdrError as exc:
                window.refuse(exc)
        by_caller: dict[str, list[CdrRecord]] = {}
        for record in records:
            by_caller.setdefault(record.uniqueid, []).append(record)
        for record in records:
            if record.lastapp == "Dial" and record.dstchannel:
                leg = self._leg(record, by_caller[record.uniqueid])
                window.legs[leg.leg_id] = leg
        return window, new_offset

    def _leg(self, r: CdrRecord, same_caller: list[CdrRecord]) -> CallLeg:
        queued_before = any(o.lastapp == "Queue" and o.start <= r.start for o in same_caller)
        leg = CallLeg(pbx=self.pbx, call_id=r.uniqueid, leg_id=dial_leg_id(r.uniqueid,
                                                                            r.dstchannel),
                      uniqueid=r.uniqueid, kind=LegKind.TRANSFER if queued_before else
                      LegKind.DIRECT, offered_at=r.start, caller_number=r.src,
                      officer=_officer(r.dstchannel), source="backfill", ended_at=r.end)
        if r.disposition == "ANSWERED" and r.answer is not None:
            leg.answered_at, leg.outcome, leg.ended_at = r.answer, Outcome.ANSWERED, None
            leg.answered_by = leg.officer
            return leg
        later = [o for o in same_caller if o.start >= r.end and o is not r]
        if leg.kind is LegKind.TRANSFER and any(o.lastapp == "Queue" for o in later):
            leg.outcome = Outcome.RETURNED
        elif any(o.lastapp == "VoiceMail" for o in later):
            leg.outcome, leg.voicemail = Outcome.VOICEMAIL, True
        else:
            leg.outcome = Outcome.MISSED
            timeout = _dial_timeout(r.lastdata)
            if leg.kind is LegKind.TRANSFER:
                leg.missed_cause = MissedCause.TRANSFER_UNANSWERED
            elif r.disposition == "NO ANSWER":
                leg.missed_cause = (MissedCause.TIMEOUT if timeout is None
                                    or r.duration >= timeout else MissedCause.ABANDONED)
            else:
                leg.missed_cause = MissedCause.OTHER
        return leg
