"""Untrusted text printed on a terminal: controls are shown, printable text is unchanged."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from monitor.core.terminal_text import for_terminal


def test_escapes_ansi_bidi_and_line_breaks_and_keeps_the_rest() -> None:
    assert for_terminal("Siti\x1b[2J\u202e x\n\x9b é 名前") == (
        "Siti\\x1b[2J\\u202e x\\n\\x9b é 名前")
    assert for_terminal("Ali bin Abu") == "Ali bin Abu"


@given(st.text())
def test_no_control_character_survives(value: str) -> None:
    shown = for_terminal(value)
    assert not any(ord(ch) < 0x20 or 0x7f <= ord(ch) <= 0x9f for ch in shown)
