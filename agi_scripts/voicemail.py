"""Where a message left with VoiceMail() is, and how long it is, for the `voicemail_left` event."""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)


def message_details(spool: Path | None, context: str, mailbox: str, number: int,
                    measured_seconds: float) -> tuple[str, float]:
    """`(<context>/<mailbox>/INBOX/msgNNNN, duration)`: the PBX's own duration when its spool
    is readable from here (the message's .txt), else the time VoiceMail() ran."""
    message_id = f"{context}/{mailbox}/INBOX/msg{number:04d}"
    if spool is None:
        return message_id, measured_seconds
    info = spool / f"{message_id}.txt"
    try:
        fields = dict(line.split("=", 1) for line in info.read_text().splitlines() if "=" in line)
        return message_id, float(fields.get("duration", measured_seconds))
    except (OSError, ValueError):
        log.warning("cannot read %s; using the measured duration", info)
        return message_id, measured_seconds
