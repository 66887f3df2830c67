"""A caller's speech pcap: one stream whose sequence numbers and timestamps only grow."""

from __future__ import annotations

import itertools
import struct
from pathlib import Path

from lab.sip.pcap import HELLO_PCAP, read_rtp_packets, rtp_payload
from lab.sip.speech import write_speech_pcap


def test_speech_loops_the_capture_as_one_growing_stream(tmp_path: Path) -> None:
    path = tmp_path / "speech.pcap"
    seconds = write_speech_pcap(path, 20.0)
    packets = read_rtp_packets(path)
    source = [rtp_payload(p) for p in read_rtp_packets(HELLO_PCAP)]
    assert 20.0 <= seconds < 20.0 + 7.1  # whole loops of the 7 s capture
    headers = [struct.unpack("!BBHII", p[:12]) for p in packets]
    seqs = [h[2] for h in headers]
    stamps = [h[3] for h in headers]
    assert seqs == list(range(1, len(packets) + 1))
    assert all(b - a == 240 for a, b in itertools.pairwise(stamps))  # 30 ms packets
    assert {h[1] & 0x7F for h in headers} == {8}  # A-law
    assert len({h[4] for h in headers}) == 1  # one SSRC
    assert [rtp_payload(p) for p in packets[:len(source)]] == source
    assert len(packets) % len(source) == 0
