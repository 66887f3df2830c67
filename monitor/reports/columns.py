"""The export's columns: names, types and meanings (docs/exports.md is generated from this)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ColumnKind = Literal["text", "time", "seconds", "bool"]


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
                                   "transfer_unanswered, after_hours or other."),
    Column("answered_by", "text", "Who answered: the receptionist's or officer's extension."),
    Column("returned_from", "text", "For returned legs: the officer whose transfer came back."),
    Column("voicemail", "bool", "The caller left a message on this leg."),
    Column("callback_id", "text", "The callback opened for this call's message, if any."),
    Column("source", "text", "Where the record came from: ami, mqtt, backfill or synthetic."),
)
COLUMN_NAMES = tuple(c.name for c in EXPORT_COLUMNS)
TIME_COLUMNS = tuple(c.name for c in EXPORT_COLUMNS if c.kind == "time")
PERSONAL_COLUMNS = tuple(c.name for c in EXPORT_COLUMNS if c.personal)


def columns_markdown() -> str:
    """The column reference auditors read (written to docs/exports.md)."""
    lines = ["| column | type | meaning |", "|---|---|---|"]
    lines += [f"| `{c.name}` | {c.kind} | {c.meaning} |" for c in EXPORT_COLUMNS]
    return "\n".join(lines)
