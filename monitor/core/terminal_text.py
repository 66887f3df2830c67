"""Text from callers made safe to print on a terminal: control characters shown, not obeyed.

A caller name or matter comes from the PBX, MQTT or the store; printed raw, an ANSI escape
(`ESC [ 2 J`, a fake prompt, a hidden line) or a bidirectional override runs in the help desk's
terminal. Each such character is shown as its Python escape (`\\x1b`, `\\u202e`) instead.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, and the bidirectional embeddings, overrides and isolates.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _shown(match: re.Match[str]) -> str:
    return ascii(match.group())[1:-1]


def for_terminal(value: str) -> str:
    """`value` with every control character replaced by its visible escape."""
    return _UNPRINTABLE.sub(_shown, value)
