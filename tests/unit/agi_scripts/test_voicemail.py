"""A message's id and duration come from the PBX's spool when it can be read."""

from __future__ import annotations

from pathlib import Path

from agi_scripts.voicemail import message_details


def test_duration_from_the_message_file(tmp_path: Path) -> None:
    inbox = tmp_path / "callsla" / "2301" / "INBOX"
    inbox.mkdir(parents=True)
    (inbox / "msg0003.txt").write_text("[message]\norigmailbox=2301\nduration=12\n")
    assert message_details(tmp_path, "callsla", "2301", 3, 15.2) == (
        "callsla/2301/INBOX/msg0003", 12.0)


def test_measured_duration_without_the_spool(tmp_path: Path) -> None:
    assert message_details(None, "callsla", "2301", 0, 15.2) == ("callsla/2301/INBOX/msg0000", 15.2)
    assert message_details(tmp_path, "callsla", "2301", 0, 9.5)[1] == 9.5
