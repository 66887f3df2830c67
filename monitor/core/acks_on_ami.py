"""The monitor's acknowledgement of call-flow events that came as AMI UserEvents.

Asterisk keeps no events for an AMI session that is not logged in, so the agi-server keeps each
outbox file until the monitor says it has committed that event: after the commit, the monitor
sends `UserEvent: CallSLAStored` with its `PBX` and the `EventIDs` (comma-separated), and at
each login one with `Resend: all` (it may have missed anything sent before). Both sides import
this module, as they do `events_on_ami.py`.

An `EventIDs` line stays within Asterisk's measured line limit (a 1020-byte header line
passes): more ids go as several UserEvents. An event id is any non-empty string in the
schema, so an id that is not plain (letters, digits, `-`, `_`, `.`, up to 64 characters; the
scripts' uuid4 ids are) travels as a hash of it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

STORED_EVENT = "CallSLAStored"  # the `UserEvent:` header of an acknowledgement
IDS_LINE_CHARS = 1000  # of `EventIDs: ...`, below the 1020 bytes a line that Asterisk takes
_PLAIN_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_IDS_KEY = "EventIDs: "


def ack_token(event_id: str) -> str:
    """How `event_id` is named in an acknowledgement (the id itself when it is plain)."""
    if _PLAIN_ID.fullmatch(event_id):
        return event_id
    return "sha256-" + hashlib.sha256(event_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def ack_fields(pbx: str, event_ids: Iterable[str]) -> list[dict[str, str]]:
    """The `UserEvent` actions (headers) that acknowledge `event_ids`, in order, each within
    one AMI line."""
    actions: list[dict[str, str]] = []
    line: list[str] = []
    length = len(_IDS_KEY)
    for token in dict.fromkeys(ack_token(e) for e in event_ids):  # once each, in order
        if line and length + 1 + len(token) > IDS_LINE_CHARS:
            actions.append(_fields(pbx, line))
            line, length = [], len(_IDS_KEY)
        length += len(token) + (1 if line else 0)
        line.append(token)
    if line:
        actions.append(_fields(pbx, line))
    return actions


def resend_request_fields(pbx: str) -> dict[str, str]:
    """What the monitor sends at each login: every event not yet acknowledged, again."""
    return {**_fields(pbx, []), "Resend": "all"}


def _fields(pbx: str, tokens: list[str]) -> dict[str, str]:
    return {"UserEvent": STORED_EVENT, "PBX": pbx, "EventIDs": ",".join(tokens)}


@dataclass(frozen=True)
class StoredAck:
    """One acknowledgement as the agi-server reads it."""

    pbx: str
    tokens: frozenset[str]
    resend_all: bool


def parse_ack(message: Mapping[str, str]) -> StoredAck | None:
    """The acknowledgement an AMI event carries, or None for any other event."""
    if message.get("event") != "UserEvent" or message.get("userevent") != STORED_EVENT:
        return None
    tokens = frozenset(t for t in message.get("eventids", "").split(",") if t)
    return StoredAck(pbx=message.get("pbx", ""), tokens=tokens,
                     resend_all=message.get("resend", "").lower() == "all")
