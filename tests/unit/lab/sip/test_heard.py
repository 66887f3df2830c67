"""Finding a prompt in a caller's received G.711 audio, and timing it by packet arrival."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from lab.sip.heard import LINEAR, PCMA, PCMU, HeardAudio, Packet, PromptHearing, read_prompt

RNG = np.random.default_rng(9)


def speechlike(seconds: float) -> NDArray[np.float64]:
    """Noise shaped by a slow envelope: as unlike a sine as speech, and repeatable."""
    n = int(seconds * 8000)
    envelope = 0.5 + 0.5 * np.sin(np.linspace(0, 9 * np.pi, n)) ** 2
    return np.round(RNG.normal(0, 6000, n) * envelope).clip(-32000, 32000)


def encode(samples: NDArray[np.float64], kind: int) -> bytes:
    """The G.711 byte whose linear value is nearest each sample (what an encoder sends)."""
    table = LINEAR[kind]
    order = np.argsort(table)
    ranked = table[order]
    index = np.clip(np.searchsorted(ranked, samples), 1, 255)
    nearer = np.where(np.abs(ranked[index - 1] - samples) <= np.abs(ranked[index] - samples),
                      index - 1, index)
    return bytes(order[nearer].astype(np.uint8))


def write_prompt(path: Path, samples: NDArray[np.int16]) -> None:
    """A prompt file as the build writes it: 8 kHz mono 16-bit WAV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(samples.tobytes())


def packets_of(audio: bytes, kind: int, start: float, seq: int = 0) -> list[Packet]:
    return [(start + i / 50, kind, 0, seq + i, 160 * i, audio[160 * i:160 * (i + 1)])
            for i in range(len(audio) // 160)]


def test_a_prompt_is_found_where_it_was_played_and_timed_by_its_packet() -> None:
    prompt, other = speechlike(1.2), speechlike(1.2)
    before, after = speechlike(2.0), speechlike(0.6)
    stream = encode(np.concatenate([before, prompt, other, after]), PCMU)
    heard = HeardAudio.from_packets(packets_of(stream, PCMU, start=1000.0))
    assert heard.find(prompt) == [pytest.approx(1002.0)]  # 2.0 s of audio before it
    assert heard.find(speechlike(1.2)) == []  # never played
    assert heard.scores(prompt).max() > 0.99


def test_a_prompt_played_twice_in_a_law_is_found_twice() -> None:
    prompt = speechlike(0.4)
    audio = np.concatenate([speechlike(1.0), prompt, speechlike(0.6), prompt, speechlike(0.2)])
    heard = HeardAudio.from_packets(packets_of(encode(audio, PCMA), PCMA, start=0.0))
    assert heard.find(prompt) == [pytest.approx(1.0), pytest.approx(2.0)]


def test_a_gap_in_the_packets_times_what_follows_by_arrival() -> None:
    prompt = speechlike(0.6)
    first = packets_of(encode(speechlike(1.0), PCMU), PCMU, start=10.0)
    # Nothing sent for 5 s (no audio is not silence), then the prompt; DTMF events skipped.
    dtmf: Packet = (14.0, 101, 1, 50, 0, b"\x01\x0a\x00\xa0")
    later = packets_of(encode(np.concatenate([prompt, speechlike(0.2)]), PCMU), PCMU,
                       start=16.0, seq=60)
    heard = HeardAudio.from_packets([*first, dtmf, *later])
    assert heard.find(prompt) == [pytest.approx(16.0)]


def test_nothing_heard_finds_nothing() -> None:
    assert HeardAudio.from_packets([]).find(speechlike(0.5)) == []


def test_prompt_files_are_read_once_and_must_be_8_khz_mono_16_bit(tmp_path: Path) -> None:
    samples = speechlike(0.5).astype("<i2")
    write_prompt(tmp_path / "en" / "press_1.wav", samples)
    hearing = PromptHearing(tmp_path)
    assert np.array_equal(hearing.prompt("en/press_1"), samples.astype(np.float64))
    assert hearing.prompt("en/press_1") is hearing.prompt("en/press_1")
    with wave.open(str(tmp_path / "stereo.wav"), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\0" * 8)
    with pytest.raises(ValueError, match="not 8 kHz mono 16-bit"):
        read_prompt(tmp_path / "stereo.wav")


def test_a_prompt_followed_by_music_in_its_trailing_silence_is_found(tmp_path: Path) -> None:
    spoken = speechlike(0.5)
    pad = RNG.integers(-1, 2, 1200)  # the build's 0.15 s of silence, as sox dithers it
    samples = np.concatenate([spoken, pad]).astype("<i2")
    write_prompt(tmp_path / "en" / "seconds.wav", samples)
    hearing = PromptHearing(tmp_path)
    assert len(spoken) - 400 < len(hearing.sound("en/seconds")) <= len(spoken)
    assert hearing.seconds("en/seconds") == pytest.approx(0.65)
    music = 4 * speechlike(0.5)
    played = encode(np.concatenate([spoken, music, np.zeros(1600)]), PCMU)
    heard = HeardAudio.from_packets(packets_of(played, PCMU, 100.0))
    assert heard.best_match(hearing.prompt("en/seconds")) < 0.9  # the padded file: hidden
    assert hearing.times(heard, "en/seconds") == [pytest.approx(100.0)]
    # Said twice in a row: a window on the first start is not the second's.
    twice = encode(np.concatenate([spoken, spoken, np.zeros(1600)]), PCMU)
    heard = HeardAudio.from_packets(packets_of(twice, PCMU, 200.0))
    assert hearing.times(heard, "en/seconds", between=(199.9, 200.3)) == [pytest.approx(200.0)]
    assert len(hearing.times(heard, "en/seconds")) == 2


def test_g711_tables_are_the_itu_values() -> None:
    tables = LINEAR
    # G.711's extremes and zeros: µ-law 0x00 = -32124, 0x80 = 32124, 0xFF = 0;
    # A-law 0xD5 = 8, 0x55 = -8, 0xAA = 32256.
    assert (tables[PCMU][0x00], tables[PCMU][0x80], tables[PCMU][0xFF]) == (-32124, 32124, 0)
    assert (tables[PCMA][0xD5], tables[PCMA][0x55], tables[PCMA][0xAA]) == (8, -8, 32256)


def test_a_search_between_two_times_sees_only_that_audio() -> None:
    prompt = speechlike(0.5)
    audio = np.concatenate([speechlike(1.0), prompt, speechlike(2.0), prompt, speechlike(0.4)])
    heard = HeardAudio.from_packets(packets_of(encode(audio, PCMU), PCMU, start=100.0))
    assert heard.find(prompt) == [pytest.approx(101.0), pytest.approx(103.5)]
    assert heard.between(102.0, 105.0).find(prompt) == [pytest.approx(103.5)]
    assert heard.between(100.0, 101.2).find(prompt) == []  # cut short: not the prompt


def test_packets_that_arrive_in_a_burst_are_still_cut_in_order() -> None:
    prompt = speechlike(0.4)
    audio = encode(np.concatenate([speechlike(1.0), prompt, speechlike(0.5)]), PCMU)
    packets = packets_of(audio, PCMU, start=50.0)
    # Packets 10-19 all arrive within 1 ms (a late burst): their samples overlap in time.
    burst = [(50.2 + i / 10000, *p[1:]) if 10 <= i < 20 else p for i, p in enumerate(packets)]
    heard = HeardAudio.from_packets(burst)
    assert bool(np.all(np.diff(heard.order) >= 0))
    assert heard.between(50.9, 51.5).find(prompt) == [pytest.approx(51.0)]


def test_a_prompt_whose_last_frame_never_came_still_matches() -> None:
    prompt = speechlike(0.42)
    audio = np.concatenate([speechlike(1.0), prompt[:-22]])  # the stream ends 22 samples short
    heard = HeardAudio.from_packets(packets_of(encode(audio, PCMU), PCMU, start=0.0))
    assert heard.find(prompt) == [pytest.approx(1.0)]
