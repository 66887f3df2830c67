"""The callback register as the help desk reads it in a terminal: caller data cannot drive it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from monitor.core.records import Callback
from monitor.reports.callbacks import RegisterLine, format_callback, format_register

T0 = datetime(2026, 8, 3, 1, 0, tzinfo=UTC)
ZONE = ZoneInfo("Asia/Kuala_Lumpur")


def _hostile() -> Callback:
    return Callback(pbx="pbx1", callback_id="cb-1", call_id="c1", officer="2001",
                    department="Lesen\x1b[31m", caller_name="Ali\x1b[2J\x1b[H\u202eevil",
                    contacted_at=T0, caller_number="012\r\n3", matter="vm\x07:INBOX",
                    due_at=T0 + timedelta(hours=24))


def test_register_and_record_show_control_characters_escaped() -> None:
    listing = format_register([RegisterLine(_hostile(), "open")], ZONE)
    record = format_callback(_hostile(), ZONE, now=T0)
    for text in (listing, record):
        assert not any(ord(ch) < 0x20 and ch != "\n" for ch in text)
        assert "\x1b" not in text
        assert "\u202e" not in text
        assert "Ali\\x1b[2J\\x1b[H\\u202eevil" in text
    assert len(listing.splitlines()) == 2  # the number's CR LF does not start a line
    assert "012\\r\\n3" in record
