"""What a lab caller hears: the RTP the PBX sends them, kept as a WAV file and a packet log."""

from __future__ import annotations

import asyncio
import struct
import time
from pathlib import Path

from lab.sip.pcap import rtp_payload

# G.711 payloads go into the WAV as they are (WAVE_FORMAT_MULAW 7 / ALAW 6); no decoding.
G711_WAV_FORMAT = {0: 7, 8: 6}


class _Receiver(asyncio.DatagramProtocol):
    def __init__(self, recorder: RtpRecorder) -> None:
        self.recorder = recorder

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        self.recorder.received(data)


class RtpRecorder:
    """Listens where the caller's SDP says it receives audio. `close()` writes
    `<stem>.wav` (the G.711 audio in arrival order) and `<stem>.csv` (one line per packet:
    arrival time, payload type, marker, sequence, RTP timestamp, payload bytes), so a later
    analysis can tell ringing, music, prompts and silence apart and time them."""

    def __init__(self, stem: Path, port: int) -> None:
        self.stem = stem
        self.port = port
        self.packets: list[tuple[float, int, int, int, int, bytes]] = []
        self.transport: asyncio.DatagramTransport | None = None
        self.written = False

    @property
    def wav_path(self) -> Path:
        return self.stem.with_suffix(".wav")

    @property
    def csv_path(self) -> Path:
        return self.stem.with_suffix(".csv")

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        self.transport, _ = await loop.create_datagram_endpoint(
            lambda: _Receiver(self), local_addr=("127.0.0.1", self.port))

    def received(self, data: bytes) -> None:
        if len(data) < 12 or data[0] >> 6 != 2:
            return  # not RTP version 2
        second, seq, stamp = struct.unpack("!BHI", data[1:8])
        payload = rtp_payload(data)
        self.packets.append((time.time(), second & 0x7F, second >> 7, seq, stamp, payload))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
            self.transport = None
        if self.written:
            return
        self.written = True
        self.stem.parent.mkdir(parents=True, exist_ok=True)
        with self.csv_path.open("w") as out:
            out.write("arrival,payload_type,marker,sequence,rtp_timestamp,bytes\n")
            for arrival, kind, marker, seq, stamp, payload in self.packets:
                out.write(f"{arrival:.6f},{kind},{marker},{seq},{stamp},{len(payload)}\n")
        audio = [p for p in self.packets if p[1] in G711_WAV_FORMAT]
        kind = audio[0][1] if audio else 0
        frames = b"".join(p[5] for p in audio if p[1] == kind)
        _write_g711_wav(self.wav_path, frames, G711_WAV_FORMAT[kind])


def _write_g711_wav(path: Path, frames: bytes, format_tag: int) -> None:
    """A WAVE file of 8 kHz mono 8-bit G.711 (the `wave` module writes PCM only)."""
    fmt = struct.pack("<HHIIHHH", format_tag, 1, 8000, 8000, 1, 8, 0)
    fact = struct.pack("<I", len(frames))
    pad = b"\0" if len(frames) % 2 else b""
    body = (b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
            + b"fact" + struct.pack("<I", 4) + fact
            + b"data" + struct.pack("<I", len(frames)) + frames + pad)
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)

