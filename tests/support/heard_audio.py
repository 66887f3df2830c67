"""What a lab caller heard, as sound: the RTP they received (lab.sip.rtp.RtpRecorder) decoded,
and where in it a prompt file starts (normalised cross-correlation with the generated WAV).

Times are the packets' arrival times on the host (the PBX runs on the same clock, over
loopback), so an onset compares with AMI timestamps and onsets compare with each other.
"""

from __future__ import annotations

import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

RATE = 8000
PCMU, PCMA = 0, 8
# A prompt heard through G.711 correlates with its file at 0.99-1.0; music on hold and the
# other language's prompt stayed below 0.06 in the lab's recordings (200 s each).
MATCH = 0.7

Audio = NDArray[np.float64]
Packet = tuple[float, int, int, int, int, bytes]  # as RtpRecorder.packets keeps them


def _ulaw_table() -> Audio:
    codes = ~np.arange(256, dtype=np.int32) & 0xFF
    exponent, mantissa = (codes >> 4) & 0x07, codes & 0x0F
    magnitude = ((mantissa << 3) + 0x84) << exponent
    return np.where(codes & 0x80, -(magnitude - 0x84), magnitude - 0x84) / 32768.0


def _alaw_table() -> Audio:
    codes = np.arange(256, dtype=np.int32) ^ 0x55
    exponent, mantissa = (codes >> 4) & 0x07, codes & 0x0F
    magnitude = np.where(exponent == 0, (mantissa << 4) + 8,
                         ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0))
    return np.where(codes & 0x80, magnitude, -magnitude) / 32768.0


_DECODE = {PCMU: _ulaw_table(), PCMA: _alaw_table()}


@dataclass(frozen=True)
class Heard:
    """The audio a caller received, and when each sample arrived."""

    samples: Audio
    arrival: Audio  # seconds since the epoch, one per sample

    @classmethod
    def from_packets(cls, packets: Sequence[Packet]) -> Heard:
        chunks, times = [], []
        for at, payload_type, _marker, _seq, _stamp, payload in packets:
            table = _DECODE.get(payload_type)
            if table is None or not payload:  # telephone-event, comfort noise
                continue
            chunks.append(table[np.frombuffer(payload, dtype=np.uint8)])
            times.append(at + np.arange(len(payload)) / RATE)
        if not chunks:
            raise ValueError("no G.711 audio received")
        return cls(np.concatenate(chunks), np.concatenate(times))

    def onsets(self, prompt: Audio, *, match: float = MATCH) -> list[tuple[float, float]]:
        """(arrival time, correlation) of each place the prompt starts, in time order."""
        score = normalised_correlation(self.samples, prompt)
        found: list[tuple[float, float]] = []
        index = 0
        while True:
            above = np.flatnonzero(score[index:] >= match)
            if not above.size:
                return found
            start = index + int(above[0])
            window = score[start:start + len(prompt) // 2]
            best = start + int(np.argmax(window))
            found.append((float(self.arrival[best]), float(score[best])))
            index = best + len(prompt) // 2

    def best_match(self, prompt: Audio, *, after: float = 0.0) -> float:
        """The highest correlation with `prompt` anywhere after `after` (0 if none)."""
        score = normalised_correlation(self.samples, prompt)
        valid = self.arrival[:len(score)] >= after
        return float(score[valid].max()) if valid.any() else 0.0


def read_prompt(path: Path) -> Audio:
    """A prompt as the lab generated it: 8 kHz mono 16-bit WAV."""
    with wave.open(str(path), "rb") as wav:
        if (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) != (RATE, 1, 2):
            raise ValueError(f"{path}: not 8 kHz mono 16-bit")
        frames = wav.readframes(wav.getnframes())
    return np.frombuffer(frames, dtype="<i2").astype(np.float64) / 32768.0


def normalised_correlation(signal: Audio, template: Audio) -> Audio:
    """For each start k, corr(signal[k:k+m], template) in [-1, 1] (0 where the signal is
    silent); one value per start where the whole template fits."""
    m = len(template)
    if len(signal) < m:
        return np.zeros(0)
    t = template - template.mean()
    size = 1 << (len(signal) + m - 1).bit_length()
    dot = np.fft.irfft(np.fft.rfft(signal, size) * np.conj(np.fft.rfft(t, size)), size)
    dot = dot[:len(signal) - m + 1]
    cumulative = np.concatenate(([0.0], np.cumsum(signal)))
    squares = np.concatenate(([0.0], np.cumsum(signal * signal)))
    sums = cumulative[m:] - cumulative[:-m]
    energy = (squares[m:] - squares[:-m]) - sums * sums / m
    scale = np.sqrt(np.maximum(energy, 0.0)) * np.linalg.norm(t)
    return np.where(scale > 1e-9, dot / np.where(scale > 1e-9, scale, 1.0), 0.0)
