"""RTP in pcap files, as SIPp's play_pcap_audio reads them: write packets, read a capture's."""

from __future__ import annotations

import struct
from collections.abc import Iterable
from pathlib import Path

PCAP_DIR = Path("/usr/share/sip-tester")  # Debian's sip-tester ships G.711 and DTMF pcaps
HELLO_PCAP = PCAP_DIR / "g711a.pcap"  # 7 s of A-law speech, what an answering phone "says"
PCAP_HEADER = struct.Struct("<IHHiIII")  # magic, version 2.4, zone, accuracy, snaplen, link
RECORD_HEADER = struct.Struct("<IIII")  # seconds, microseconds, captured, original length
ETHERNET = 1
UDP_OFFSET = 14 + 20  # Ethernet and a 20-byte IPv4 header before the UDP header


def udp_frame(payload: bytes) -> bytes:
    """Ethernet + IPv4 + UDP around an RTP packet (SIPp replaces addresses and ports)."""
    udp = struct.pack("!HHHH", 4000, 4000, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                     bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
    return b"\0" * 12 + b"\x08\x00" + ip + udp


def write_rtp_pcap(path: Path, packets: Iterable[tuple[int, bytes]]) -> None:
    """`packets` are (milliseconds from the start, RTP packet); SIPp plays them on that time."""
    out = [PCAP_HEADER.pack(0xA1B2C3D4, 2, 4, 0, 0, 65535, ETHERNET)]
    for ms, rtp in packets:
        frame = udp_frame(rtp)
        out.append(RECORD_HEADER.pack(ms // 1000, (ms % 1000) * 1000, len(frame), len(frame)))
        out.append(frame)
    path.write_bytes(b"".join(out))


def rtp_payload(packet: bytes) -> bytes:
    """An RTP packet's payload: after the 12-byte header and its CSRC list."""
    return packet[12 + 4 * (packet[0] & 0x0F):]


def read_rtp_packets(path: Path) -> list[bytes]:
    """The RTP packets of a capture of Ethernet/IPv4/UDP frames, in order."""
    data = path.read_bytes()
    if PCAP_HEADER.unpack_from(data)[0] != 0xA1B2C3D4:
        raise ValueError(f"{path}: not a little-endian microsecond pcap")
    offset, packets = PCAP_HEADER.size, []
    while offset + RECORD_HEADER.size <= len(data):
        captured = RECORD_HEADER.unpack_from(data, offset)[2]
        offset += RECORD_HEADER.size
        packets.append(data[offset + UDP_OFFSET + 8:offset + captured])
        offset += captured
    return packets
