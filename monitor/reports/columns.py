"""The export's columns: names, types and meanings (docs/exports.md is generated from this)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ColumnKind = Literal["text", "time", "seconds", "bool", "count"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColumnKind
    meaning: str
    personal: bool = False  # PDPA 2010: masked unless the export is `--unmasked --reason ...`


EXPORT_COLUMNS: tuple[Column, ...] = (
    Column("pbx", "text", "The PBX that carried the call (the `pbx` label)."),
    Column("call_id", "text", "Asterisk Linkedid: the same for every leg of one call."),
    Column("leg_id", "text", "Unique per ringing leg."),
    Column("kind", "text", "front_desk, transfer (to an officer), returned (back at the front "
                           "desk after an unanswered transfer) or direct."),
    Column("queue", "text", "Front-desk queue the leg waited in (empty for officer legs)."),
    Column("department", "text", "The officer's department (empty for front-desk legs)."),
    Column("officer", "text", "The officer's extension, for transfer and direct legs."),
    Column("caller_number", "text", "Caller's number; masked to the last 4 digits by default.",
           personal=True),
    Column("caller_name", "text", "Caller's name as given by the network; masked by default.",
           personal=True),
    Column("offered_at", "time", "When the leg started ringing or waiting (PBX clock)."),
    Column("answered_at", "time", "When a person answered; empty if nobody did."),
    Column("ended_at", "time", "When the leg ended."),
    Column("answer_wait_seconds", "seconds", "answered_at - offered_at; empty if unanswered."),
    Column("answered_within_standard", "bool",
           "Answered within the charter's answer_within_seconds (10 s in charter 2026.1)."),
    Column("counted_as_offered", "bool",
           "In the denominator of the answer rate (false for legs still in progress and for "
           "configured short abandons)."),
    Column("outcome", "text", "answered, missed, returned, voicemail or in_progress."),
    Column("missed_cause", "text", "For missed legs: abandoned, timeout, no_agents, "
                                   "transfer_unanswered, after_hours, lost (the PBX lost the "
                                   "call) or other."),
    Column("answered_by", "text", "Who answered: the queue member's name (a receptionist) or "
           "the directory extension (an officer); `other` for a phone outside the directory."),
    Column("returned_from", "text", "For returned legs: the officer whose transfer came back."),
    Column("voicemail", "bool", "The caller left a message on this leg."),
    Column("callback_id", "text", "The callback opened for this call's message, if any."),
    Column("source", "text", "Where the record came from: ami, mqtt, backfill or synthetic."),
)
# `--per call`: one row per call, its legs rolled up (whole-call view of docs/architecture.md)
CALL_COLUMNS: tuple[Column, ...] = (
    Column("pbx", "text", "The PBX that carried the call."),
    Column("call_id", "text", "Asterisk Linkedid; the legs export has the same value."),
    Column("queue", "text", "Front-desk queue of the call's first leg."),
    Column("department", "text", "Department of the last officer the call was put through to."),
    Column("officer", "text", "Extension of that officer."),
    Column("caller_number", "text", "Caller's number; masked to the last 4 digits by default.",
           personal=True),
    Column("caller_name", "text", "Caller's name; masked by default.", personal=True),
    Column("arrived_at", "time", "When the call's first leg started waiting or ringing."),
    Column("first_answered_at", "time", "When a person first answered; empty if nobody did."),
    Column("ended_at", "time", "When the call's last leg ended."),
    Column("wait_to_first_answer_seconds", "seconds",
           "first_answered_at - arrived_at: the whole-call answer wait."),
    Column("answered_within_standard", "bool",
           "First answered within the charter's answer_within_seconds of arriving."),
    Column("legs", "count", "Number of ringing legs (front desk, transfers, returns)."),
    Column("transfers", "count", "Legs put through to an officer."),
    Column("returned", "count", "Transfers that came back to the front desk unanswered."),
    Column("voicemail", "bool", "The caller left a message."),
    Column("final_outcome", "text", "Outcome of the call's last leg."),
    Column("missed_cause", "text", "Cause, when the last leg was missed."),
    Column("callback_id", "text", "The callback opened for the call's message, if any."),
)
COLUMN_NAMES = tuple(c.name for c in EXPORT_COLUMNS)
CALL_COLUMN_NAMES = tuple(c.name for c in CALL_COLUMNS)
TIME_COLUMNS = tuple(dict.fromkeys(c.name for c in (*EXPORT_COLUMNS, *CALL_COLUMNS)
                                   if c.kind == "time"))


def columns_markdown(columns: tuple[Column, ...] = EXPORT_COLUMNS) -> str:
    """The column reference auditors read (written to docs/exports.md)."""
    lines = ["| column | type | meaning |", "|---|---|---|"]
    lines += [f"| `{c.name}` | {c.kind} | {c.meaning} |" for c in columns]
    return "\n".join(lines)
