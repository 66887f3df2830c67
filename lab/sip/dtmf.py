"""RFC 4733 (2833) DTMF as pcap files for SIPp's play_pcap_audio, one file per run of keys.

SIPp's own dtmf_2833_<key>.pcap files are cut from one capture of 0-9 * #, so their sequence
numbers and RTP timestamps grow with the key's value: played as "#1" or "2101", each key after
a key of higher value is older than the one before, and Asterisk drops it as out of order
(measured: `#1` was never seen as the blind-transfer feature). These files carry sequence
numbers and timestamps that only grow, across every run of keys of one call.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from lab.sip.pcap import write_rtp_pcap

EVENTS = {**{str(d): d for d in range(10)}, "*": 10, "#": 11}
PACKET_MS = 20
TONE_PACKETS = 8  # 160 ms of tone
END_PACKETS = 3  # the end packet, sent three times as RFC 4733 asks
GAP_MS = 100  # between keys
PAYLOAD_TYPE = 101  # what the lab's SDP offers for telephone-event
SSRC = 0x4C414231


@dataclass
class DtmfClock:
    """Sequence number and RTP timestamp of the next key; one per call so they only grow."""

    seq: int = 1000
    stamp: int = 160_000


def key_ms() -> int:
    return (TONE_PACKETS + END_PACKETS) * PACKET_MS + GAP_MS


def write_pcap(path: Path, keys: str, clock: DtmfClock) -> float:
    """Write `keys` as one pcap; return how long it plays, in seconds."""
    records = []
    at_ms = 0
    for key in keys:
        event = EVENTS[key]
        for i in range(TONE_PACKETS + END_PACKETS):
            end = i >= TONE_PACKETS
            duration = 160 * (min(i, TONE_PACKETS - 1) + 1)
            marker = 0x80 if i == 0 else 0
            rtp = struct.pack("!BBHII", 0x80, marker | PAYLOAD_TYPE, clock.seq & 0xFFFF,
                              clock.stamp & 0xFFFFFFFF, SSRC)
            rtp += struct.pack("!BBH", event, (0x80 if end else 0) | 10, duration)
            records.append((at_ms, rtp))
            clock.seq += 1
            at_ms += PACKET_MS
        at_ms += GAP_MS
        clock.stamp += 8 * key_ms()  # the next key starts later on the RTP clock too
    write_rtp_pcap(path, records)
    return at_ms / 1000
