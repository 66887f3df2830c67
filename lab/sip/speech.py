"""A caller's voice as one pcap for SIPp's play_pcap_audio: Debian's A-law speech, looped.

Played once, sip-tester's g711a.pcap is 7 s; a caller who leaves a message must go on sending
audio until they hang up, or Asterisk's VoiceMail() ends the recording ("No audio available").
Replaying the file would send the same sequence numbers and timestamps again (the trap
lab/sip/dtmf.py describes), so the loop is one stream whose numbers only grow.
"""

from __future__ import annotations

import struct
from pathlib import Path

from lab.sip.pcap import HELLO_PCAP, read_rtp_packets, rtp_payload, write_rtp_pcap

PCMA = 8
SSRC = 0x4C414232


def write_speech_pcap(path: Path, seconds: float, *, source: Path = HELLO_PCAP) -> float:
    """Write at least `seconds` of speech (the capture's payloads over and over) to `path`;
    return how long it plays."""
    payloads = [p for p in map(rtp_payload, read_rtp_packets(source)) if p]
    if not payloads:
        raise ValueError(f"{source}: no RTP payloads")
    packets, at_ms, seq, stamp = [], 0, 1, 0
    while at_ms < seconds * 1000:
        for payload in payloads:
            rtp = struct.pack("!BBHII", 0x80, PCMA | (0x80 if seq == 1 else 0), seq & 0xFFFF,
                              stamp & 0xFFFFFFFF, SSRC) + payload
            packets.append((at_ms, rtp))
            seq += 1
            stamp += len(payload)  # one byte a sample at 8 kHz
            at_ms += len(payload) // 8
    write_rtp_pcap(path, packets)
    return at_ms / 1000
