"""Where a callback's voicemail is in the PBX's spool, when the monitor can read that spool.

A callback's matter names the message as Asterisk's spool does (`voicemail
<context>/<mailbox>/INBOX/msgNNNN for <officer>`, agi_scripts/flows.py); the audio is the
`.wav` beside it (asterisk_conf/voicemail.conf: `format = wav`). Nothing outside the spool is
ever served, whatever the matter says.
"""

from __future__ import annotations

import re
from pathlib import Path

_MESSAGE = re.compile(r"voicemail ([A-Za-z0-9_-]+/[A-Za-z0-9_-]+/INBOX/msg[0-9]{4})\b")


def message_id_of(matter: str) -> str | None:
    found = _MESSAGE.search(matter)
    return found.group(1) if found else None


def voicemail_file(spool: Path | None, matter: str) -> Path | None:
    """The readable .wav of this matter's message under `spool`, or None."""
    message = message_id_of(matter)
    if spool is None or message is None:
        return None
    root = spool.resolve()
    path = (root / f"{message}.wav").resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path
