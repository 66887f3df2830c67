"""The front desk's status prompt is padded to whole seconds (less app_queue's loop time)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agi_scripts.prompt_build import (
    QUEUE_LOOP_SECONDS,
    WHOLE_SECOND_PROMPTS,
    _speak,
    wav_seconds,
    whole_second_length,
)


@pytest.mark.parametrize(("spoken", "padded"), [
    (6.988, 6.991), (5.7126, 5.991), (6.991, 6.991), (6.995, 7.991), (0.0, 0.991)])
def test_whole_second_length(spoken: float, padded: float) -> None:
    assert whole_second_length(spoken) == pytest.approx(padded)
    assert whole_second_length(spoken) + QUEUE_LOOP_SECONDS == pytest.approx(
        round(padded + QUEUE_LOOP_SECONDS))


def test_a_negative_length_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot last"):
        whole_second_length(-1.0)


@pytest.mark.skipif(shutil.which("espeak-ng") is None or shutil.which("sox") is None,
                    reason="espeak-ng and sox come with `make setup`")
@pytest.mark.parametrize("lang", ["ms", "en"])
def test_the_front_desk_status_is_built_padded_and_others_are_not(tmp_path: Path,
                                                                   lang: str) -> None:
    (tmp_path / lang).mkdir()
    assert "frontdesk_status" in WHOLE_SECOND_PROMPTS
    _speak(f"{lang}/frontdesk_status", "Sila tunggu, panggilan anda akan dijawab.", tmp_path)
    _speak(f"{lang}/press_1", "Tekan satu.", tmp_path)
    padded = wav_seconds(tmp_path / lang / "frontdesk_status.wav")
    assert (padded + QUEUE_LOOP_SECONDS) % 1 == pytest.approx(0.0, abs=1 / 8000)
    assert (wav_seconds(tmp_path / lang / "press_1.wav") + QUEUE_LOOP_SECONDS) % 1 > 0.01
    assert not list((tmp_path / lang).glob("*.padded.wav"))
