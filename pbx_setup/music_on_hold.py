"""Music on hold that is never empty: Asterisk drops a class whose folder has no sound file,
and the caller then hears dead silence between status messages (issue 14)."""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

SOUND_SUFFIXES = (".wav", ".gsm", ".ulaw", ".alaw", ".sln", ".g722", ".wav49", ".mp3")
SOFT_TONE = "callsla-soft-tone.wav"
RATE = 8000


def sound_files(folder: Path) -> list[Path]:
    """The files Asterisk's `mode = files` would play from this folder."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in SOUND_SUFFIXES)


def write_soft_tone(target: Path, seconds: float = 30.0) -> Path:
    """A quiet two-note chime (8 kHz, 16-bit mono): a caller hears the line is alive.
    Used only where no music package (asterisk-moh-opsound-*) is installed."""
    frames = bytearray()
    notes = (523.25, 659.25, 783.99, 659.25)  # C5 E5 G5 E5, one a second, fading in and out
    for n in range(int(seconds * RATE)):
        t = n / RATE
        freq = notes[int(t) % len(notes)]
        within = t % 1.0
        envelope = math.sin(math.pi * within) ** 2
        sample = 0.12 * envelope * math.sin(2 * math.pi * freq * t)
        frames += struct.pack("<h", int(sample * 32767))
    target.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(target), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(bytes(frames))
    return target


def ensure_music(folder: Path, *, dry_run: bool = False) -> str:
    """Leave a folder with sound files alone; fill an empty one with the soft tone."""
    present = sound_files(folder)
    if present:
        return f"music on hold: {len(present)} files in {folder}"
    if dry_run:
        return f"music on hold: {folder} is empty; would write {SOFT_TONE}"
    write_soft_tone(folder / SOFT_TONE)
    return (f"music on hold: {folder} was empty; wrote {SOFT_TONE} (for music, "
            "apt-get install asterisk-moh-opsound-wav)")
