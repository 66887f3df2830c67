"""An empty music folder gets a soft tone; a folder with music is left alone."""

from __future__ import annotations

import wave
from pathlib import Path

from pbx_setup.music_on_hold import SOFT_TONE, ensure_music, sound_files


def test_an_empty_folder_gets_a_soft_8khz_tone(tmp_path: Path) -> None:
    ensure_music(tmp_path)
    with wave.open(str(tmp_path / SOFT_TONE)) as tone:
        assert (tone.getframerate(), tone.getnchannels(), tone.getsampwidth()) == (8000, 1, 2)
        assert tone.getnframes() == 30 * 8000
        frames = tone.readframes(tone.getnframes())
    peak = max(abs(int.from_bytes(frames[i:i + 2], "little", signed=True))
               for i in range(0, len(frames), 2))
    assert 0 < peak < 0.2 * 32768  # audible, and soft


def test_a_folder_with_music_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "opsound.gsm").write_bytes(b"\0" * 33)
    assert "1 files" in ensure_music(tmp_path)
    assert [p.name for p in sound_files(tmp_path)] == ["opsound.gsm"]
