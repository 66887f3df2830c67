"""The call records every part agrees on: one `CallLeg` per ringing leg, one `Callback` per message.

Definitions (docs/architecture.md, kept exactly):
- Offered leg: a call starts ringing a front-desk position (queue entry) or an officer's
  extension (a transfer or a direct call). Each ringing leg is measured.
- Answer wait: from the moment a leg starts waiting/ringing to the moment a person answers.
  Whole-call view: from arrival at the front desk to the first human answer.
- Missed: offered and never answered by a person, by cause. A call returned to the front desk
  and then answered is not missed, but is counted as returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class LegKind(StrEnum):
    FRONT_DESK = "front_desk"  # waiting in the front-desk queue
    TRANSFER = "transfer"  # put through to an officer by the front desk
    RETURNED = "returned"  # back in the front-desk queue after an unanswered transfer
    DIRECT = "direct"  # a call that rang an extension without a queue


class Outcome(StrEnum):
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    MISSED = "missed"
    RETURNED = "returned"  # unanswered transfer sent back to the front desk (a new leg follows)
    VOICEMAIL = "voicemail"  # the caller left a message instead of waiting


class MissedCause(StrEnum):
    """Bounded: these are the only values of the `cause` label."""

    ABANDONED = "abandoned"
    TIMEOUT = "timeout"
    NO_AGENTS = "no_agents"
    TRANSFER_UNANSWERED = "transfer_unanswered"
    AFTER_HOURS = "after_hours"
    LOST = "lost"  # the PBX lost the call with no hang-up seen (a crash or restart)
    OTHER = "other"


@dataclass
class CallLeg:
    """One ringing leg, from the PBX's own timestamps (time-zone aware)."""

    pbx: str
    call_id: str  # Asterisk Linkedid: joins every leg of one call
    leg_id: str  # unique per leg, e.g. the waiting channel's Uniqueid plus the leg kind
    kind: LegKind
    offered_at: datetime
    caller_number: str = ""
    caller_name: str = ""
    queue: str = ""
    department: str = ""
    officer: str = ""  # the officer's extension, for transfer and direct legs
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    answered_by: str = ""
    outcome: Outcome = Outcome.IN_PROGRESS
    missed_cause: MissedCause | None = None
    returned_from: str = ""  # the officer whose unanswered transfer came back
    voicemail: bool = False
    source: str = "ami"  # ami | mqtt | backfill
    uniqueid: str = ""  # Asterisk Uniqueid of the waiting (caller's) channel

    @property
    def answer_wait_seconds(self) -> float | None:
        if self.answered_at is None:
            return None
        return (self.answered_at - self.offered_at).total_seconds()


# The person label of a ring that no queue member or directory entry names: bounded.
OTHER_PERSON = "other"


class RingResult(StrEnum):
    """Bounded: the only values of the per-person `result` label."""

    ANSWERED = "answered"
    NOT_ANSWERED = "not_answered"  # rang out, was busy, or the caller gave up while it rang
    ANSWERED_ELSEWHERE = "answered_elsewhere"  # another phone of the same leg answered first


@dataclass(frozen=True)
class PersonRing:
    """One person's phone rung for a leg, once it ended: a per-person figure, not a leg.

    Stored beside its leg (same commit), so /metrics' `callsla_person_rings_total` is rebuilt
    from the store and the quarterly report reads the same rings."""

    pbx: str
    leg_id: str  # the leg the phone rang for
    ring_id: str  # unique within the leg: the rung channel's Uniqueid (live), a log key
    person: str  # a queue member's name or a directory extension, never from a caller
    result: RingResult
    ended_at: datetime  # when it was answered, or stopped ringing
    answer_wait_seconds: float | None = None  # the leg's answer wait, for an answered ring


class CallbackStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


@dataclass
class Callback:
    """The help desk's record (a) to (f) for a message left for an officer (charter T-h)."""

    pbx: str
    callback_id: str
    call_id: str
    officer: str
    department: str
    caller_name: str  # (a)
    contacted_at: datetime  # (b)
    caller_number: str  # (c)
    matter: str  # (d) the message: a reference to the voicemail
    due_at: datetime
    action_taken: str = ""  # (e)
    done_at: datetime | None = None  # (f) action taken
    caller_informed_at: datetime | None = None  # (f) caller informed
    status: CallbackStatus = CallbackStatus.OPEN


@dataclass
class StatusAnnouncement:
    """One status message heard by a caller waiting on a busy extension (charter T-f): an
    officer's line (department and officer, from the call flow's MQTT event) or a queue (the
    front desk: queue, from AMI; department and officer empty)."""

    pbx: str
    event_id: str  # the MQTT event's id, or `ami:...` for a queue's: one row per message heard
    call_id: str
    uniqueid: str
    department: str
    officer: str
    announced_at: datetime
    position: int  # 1 = next
    waited_seconds: float
    interval_seconds: float | None  # since this caller's previous message; None for the first
    queue: str = ""


def dial_leg_id(caller_uniqueid: str, dest_channel: str) -> str:
    """A transfer or direct leg: the caller's channel ringing one destination channel. The CDR
    names both too, which is how a CDR backfill finds the same leg."""
    return f"{caller_uniqueid}>{dest_channel}"


def queue_leg_id(uniqueid: str, queue: str, joined_at: datetime) -> str:
    """One queue entry: `uniqueid:queue@epoch-second`. The second keeps a caller's second
    entry (a returned transfer) apart from the first across restarts and backfill, with no
    counter to lose; queue_log's ENTERQUEUE second may differ by one (recorder matches both)."""
    return f"{uniqueid}:{queue}@{int(joined_at.timestamp())}"


def officer_leg_id(uniqueid: str, extension: str, started_at: datetime) -> str:
    """An officer leg opened by the dialplan's wait marker, before any phone rings."""
    return f"{uniqueid}>officer/{extension}@{int(started_at.timestamp())}"
