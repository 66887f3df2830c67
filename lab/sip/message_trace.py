"""When a lab phone received each INVITE: SIPp's own message trace (`-trace_msg`), read back.

SIPp stamps every message it logs with gettimeofday() taken as it processes the message,
in microseconds, written in local time; the lab starts SIPp with TZ=UTC (`SIPP_ENV`), so the
stamp is read as UTC and becomes seconds since the epoch: the host clock that the RTP
recorder times a caller's audio on (lab.sip.heard), so "the prompt ended before the phone
rang" compares two times of one clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

# SIPp formats its stamps with localtime(): with TZ=UTC they are UTC.
SIPP_ENV = {"TZ": "UTC"}

# One logged message: the separator with its stamp, "UDP message received [515] bytes :"
# (3.6; later versions drop the space before the colon), a blank line, the message.
_ENTRY = re.compile(
    r"^-{20,} (?P<stamp>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6})\n"
    r"\S+ (?:control )?message (?P<way>received|sent) \[\d+\] bytes ?:\n\n"
    r"(?P<message>.*?)(?=^-{20,} \d{4}-|\Z)", re.MULTILINE | re.DOTALL)
_FROM_USER = re.compile(r"^(?:From|f):[^\n]*?sips?:(?P<user>[^@>\s]*)@", re.MULTILINE)
_CALL_ID = re.compile(r"^(?:Call-ID|i):\s*(?P<id>\S+)", re.MULTILINE)


class TraceError(ValueError):
    """A SIPp message trace that does not read as one: the message says where."""


@dataclass(frozen=True)
class ReceivedInvite:
    """An INVITE as a phone received it: when (host clock, seconds since the epoch), from
    whom (the From URI's user: the caller ID number the PBX presented, "" if none) and its
    Call-ID."""

    at: float
    caller: str
    call_id: str


def received_invites(trace: Path) -> list[ReceivedInvite]:
    """Every call's first INVITE in a SIPp message trace (a retransmission or a re-INVITE
    keeps its Call-ID and is skipped), in the order received; [] if nothing was traced."""
    try:
        text = trace.read_text(errors="replace")
    except FileNotFoundError:
        return []
    invites: list[ReceivedInvite] = []
    seen: set[str] = set()
    entries = list(_ENTRY.finditer(text))
    if text.strip() and not entries:
        raise TraceError(f"{trace}: no message read from it (has SIPp's format changed?)")
    for entry in entries:
        message = entry["message"]
        if entry["way"] != "received" or not message.startswith("INVITE "):
            continue
        caller, call_id = _FROM_USER.search(message), _CALL_ID.search(message)
        if call_id is None:
            raise TraceError(f"{trace}: an INVITE at {entry['stamp']} without a Call-ID")
        if call_id["id"] in seen:
            continue
        seen.add(call_id["id"])
        at = datetime.strptime(entry["stamp"], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)
        invites.append(ReceivedInvite(at=at.timestamp(),
                                      caller=caller["user"] if caller else "",
                                      call_id=call_id["id"]))
    return invites
