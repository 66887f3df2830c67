"""What a lab caller heard: the lab's prompt files found, and timed, in the RTP the PBX sent.

Asterisk plays a prompt (8 kHz 16-bit WAV) to a G.711 caller sample by sample through its
encoder, so the prompt's samples reappear in the caller's stream with only G.711's
quantisation noise: a normalised cross-correlation of the decoded stream with the prompt
peaks near 1.0 where it was played and stays far below elsewhere (other prompts, music,
silence). Each sample carries the arrival time of its packet, so a prompt's start is timed
on the host's clock, the clock AMI's event timestamps use too.
"""

from __future__ import annotations

import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from lab.sip.rtp import G711_WAV_FORMAT

SAMPLE_RATE = 8000
PCMU, PCMA = 0, 8
SILENT = 0.005 * 32768  # the level under which `callsla prompts build` trims silence (0.5 %)
MATCH = 0.9  # normalised correlation of a prompt played (≈0.999) vs anything else (< 0.6)
Packet = tuple[float, int, int, int, int, bytes]  # RtpRecorder.packets


def _g711_tables() -> dict[int, NDArray[np.float64]]:
    """Linear values of every µ-law and A-law byte (ITU-T G.711), as Asterisk decodes them."""
    codes = np.arange(256, dtype=np.int64)
    u = ~codes & 0xFF
    ulaw = (((u & 0x0F) << 3) + 0x84) << ((u >> 4) & 0x07)
    ulaw = np.where(u & 0x80, 0x84 - ulaw, ulaw - 0x84)
    a = codes ^ 0x55
    seg = (a >> 4) & 0x07
    mag = ((a & 0x0F) << 4) + 8
    mag = np.where(seg == 0, mag, (mag + 0x100) << np.maximum(seg - 1, 0))
    alaw = np.where(a & 0x80, mag, -mag)
    return {PCMU: ulaw.astype(np.float64), PCMA: alaw.astype(np.float64)}


LINEAR = _g711_tables()  # payload type -> linear value of each byte


def read_prompt(path: Path) -> NDArray[np.float64]:
    """A prompt file's samples (8 kHz mono 16-bit WAV, as `callsla prompts build` writes)."""
    with wave.open(str(path)) as wav:
        if (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) != (SAMPLE_RATE, 1, 2):
            raise ValueError(f"{path}: not 8 kHz mono 16-bit")
        frames = wav.readframes(wav.getnframes())
    return np.frombuffer(frames, dtype="<i2").astype(np.float64)


@dataclass(frozen=True)
class HeardAudio:
    """A caller's received audio: decoded samples, each sample's arrival time (its packet's,
    plus its place in the packet), and a never-decreasing copy of those times to cut by
    (packets that arrive in a burst overlap in their 20 ms)."""

    samples: NDArray[np.float64]
    times: NDArray[np.float64]
    order: NDArray[np.float64]

    @classmethod
    def from_packets(cls, packets: Sequence[Packet]) -> HeardAudio:
        """G.711 packets in arrival order (other payloads, e.g. DTMF events, are skipped)."""
        chunks, times = [], []
        for arrival, kind, _marker, _seq, _stamp, payload in packets:
            if kind not in G711_WAV_FORMAT or not payload:
                continue
            chunks.append(LINEAR[kind][np.frombuffer(payload, dtype=np.uint8)])
            times.append(arrival + np.arange(len(payload)) / SAMPLE_RATE)
        if not chunks:
            return cls(np.zeros(0), np.zeros(0), np.zeros(0))
        joined = np.concatenate(times)
        return cls(np.concatenate(chunks), joined, np.maximum.accumulate(joined))

    def between(self, start: float, end: float, *, then: int = 0) -> HeardAudio:
        """The audio that arrived from `start` to `end`, and `then` samples more (a prompt
        that starts by `end` may go on past it, after a pause in the stream)."""
        first, last = np.searchsorted(self.order, [start, end])
        last = min(int(last) + then, len(self.samples))
        return HeardAudio(self.samples[first:last], self.times[first:last],
                          self.order[first:last])

    def scores(self, prompt: NDArray[np.float64]) -> NDArray[np.float64]:
        """The normalised correlation of `prompt` with the audio starting at each sample.

        The audio is taken as silent past its end: Asterisk need not send a file's last short
        frame (measured: a 3375-sample prompt arrived as 3353 samples), so a prompt
        heard at the very end still matches."""
        p = prompt - prompt.mean()
        m = len(p)
        if m == 0 or len(self.samples) == 0:
            return np.zeros(0)
        x = np.concatenate([self.samples, np.zeros(m - 1)])
        size = 1 << int(np.ceil(np.log2(len(x) + m)))
        dot = np.fft.irfft(np.fft.rfft(x, size) * np.conj(np.fft.rfft(p, size)), size)
        dot = dot[:len(self.samples)]
        # Each window's energy about its own mean, so a DC offset cannot make a match.
        c1 = np.concatenate(([0.0], np.cumsum(x)))
        c2 = np.concatenate(([0.0], np.cumsum(x * x)))
        sums = c1[m:] - c1[:-m]
        energy = (c2[m:] - c2[:-m]) - sums * sums / m
        scale = np.sqrt(np.maximum(energy, 0.0) * float(p @ p))
        score: NDArray[np.float64] = np.divide(dot, scale, out=np.zeros_like(dot),
                                               where=scale > 1e-6 * float(p @ p))
        return score

    def best_match(self, prompt: NDArray[np.float64], *, after: float = 0.0) -> float:
        """The highest correlation with `prompt` in the audio that arrived after `after`."""
        score = self.between(after, float("inf")).scores(prompt)
        return float(score.max()) if len(score) else 0.0

    def find(self, prompt: NDArray[np.float64], *, match: float = MATCH) -> list[float]:
        """Arrival times at which `prompt` starts playing, in order; [] if never heard."""
        score, m = self.scores(prompt), len(prompt)
        starts: list[float] = []
        index = 0
        above = np.flatnonzero(score >= match)
        while index < len(above):
            run_end = index
            while run_end + 1 < len(above) and above[run_end + 1] - above[index] < m:
                run_end += 1
            best = above[index + int(np.argmax(score[above[index:run_end + 1]]))]
            starts.append(float(self.times[best]))
            index = run_end + 1
        return starts


class PromptHearing:
    """Which of the lab's prompts a caller heard, and when: prompts read once per file."""

    def __init__(self, prompts_dir: Path) -> None:
        self.prompts_dir = prompts_dir
        self._prompts: dict[str, NDArray[np.float64]] = {}

    def prompt(self, name: str) -> NDArray[np.float64]:
        """`<lang>/<key>` (e.g. `en/officer-2102`), as the call flows name their files."""
        if name not in self._prompts:
            self._prompts[name] = read_prompt(self.prompts_dir / f"{name}.wav")
        return self._prompts[name]

    def seconds(self, name: str) -> float:
        return len(self.prompt(name)) / SAMPLE_RATE

    def sound(self, name: str) -> NDArray[np.float64]:
        """The prompt without its trailing silence (below SILENT: the build's 0.15 s pad, sox's
        dither in it), which is what is matched: music on hold or the officer's phone may
        begin in that silence (measured: a caller heard `en/seconds` whole and a loud sound
        from 0.6 s of its 0.71 s; correlation with the padded file 0.77)."""
        samples = self.prompt(name)
        sounding = np.flatnonzero(np.abs(samples) >= SILENT)
        return samples[:int(sounding[-1]) + 1] if len(sounding) else samples

    def times(self, heard: HeardAudio, name: str,
              between: tuple[float, float] | None = None) -> list[float]:
        """When `name` started playing in `heard` (only starts `between` two times, if given:
        the audio past the second is searched only for a prompt that began by then)."""
        if between is None:
            return heard.find(self.sound(name))
        window = heard.between(between[0], between[1], then=len(self.prompt(name)))
        return [t for t in window.find(self.sound(name)) if t <= between[1]]
