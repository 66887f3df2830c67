"""Reading back when a lab phone received its INVITEs, from SIPp's message trace."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from lab.sip.message_trace import TraceError, received_invites

SEPARATOR = "-" * 47


def _entry(stamp: str, way: str, message: str) -> str:
    return (f"{SEPARATOR} {stamp}\nUDP message {way} [{len(message)}] bytes :\n\n"
            f"{message}\n\n")


def _invite(caller: str, call_id: str) -> str:
    return (f"INVITE sip:2102@127.0.0.1:24030 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5060\n"
            f'From: "Lab Caller" <sip:{caller}@127.0.0.1>;tag=abc\nTo: <sip:2102@127.0.0.1>\n'
            f"Call-ID: {call_id}\nCSeq: 1 INVITE\nContent-Length: 0")


def test_each_calls_first_invite_on_the_host_clock(tmp_path: Path) -> None:
    trace = tmp_path / "messages.log"
    trace.write_text(
        _entry("2026-12-02 04:29:42.014335", "received", _invite("0320000001", "a-1"))
        + _entry("2026-12-02 04:29:42.015000", "sent", "SIP/2.0 180 Ringing\nCall-ID: a-1")
        + _entry("2026-12-02 04:29:42.514335", "received", _invite("0320000001", "a-1"))
        + _entry("2026-12-02 04:29:50.000001", "received", _invite("0360000001", "b-2")))
    invites = received_invites(trace)
    assert [(i.caller, i.call_id) for i in invites] == [("0320000001", "a-1"),
                                                        ("0360000001", "b-2")]
    first = datetime(2026, 12, 2, 4, 29, 42, 14335, tzinfo=UTC).timestamp()
    assert invites[0].at == pytest.approx(first, abs=1e-6)
    assert invites[1].at - invites[0].at == pytest.approx(7.985666, abs=1e-6)


def test_no_trace_is_no_invite_and_an_unreadable_one_is_an_error(tmp_path: Path) -> None:
    assert received_invites(tmp_path / "absent.log") == []
    garbled = tmp_path / "garbled.log"
    garbled.write_text("INVITE sip:2102@127.0.0.1 SIP/2.0\n")
    with pytest.raises(TraceError, match="no message read"):
        received_invites(garbled)
