"""Prompt texts exist in both languages and numbers are said the way each language says them."""

from __future__ import annotations

from pathlib import Path

import pytest

from agi_scripts.prompts import (
    PromptError,
    load_texts,
    number_words,
    status_message,
    transfer_announcement,
)


@pytest.mark.parametrize(
    ("n", "ms", "en"),
    [(0, "kosong", "zero"), (7, "tujuh", "seven"), (10, "sepuluh", "ten"),
     (11, "sebelas", "eleven"), (12, "dua belas", "twelve"), (19, "sembilan belas", "nineteen"),
     (20, "dua puluh", "twenty"), (21, "dua puluh satu", "twenty-one"),
     (99, "sembilan puluh sembilan", "ninety-nine")],
)
def test_number_words(n: int, ms: str, en: str) -> None:
    assert number_words(n, "ms") == ms
    assert number_words(n, "en") == en


def test_number_words_refuses_out_of_range() -> None:
    with pytest.raises(PromptError):
        number_words(100, "en")
    with pytest.raises(PromptError):
        number_words(1, "fr")


def test_every_key_in_both_languages() -> None:
    texts = load_texts()
    assert texts["ms"].keys() == texts["en"].keys()
    files = status_message(2, 80, recovery=False) + transfer_announcement("2101", "finance")
    generated = ("num-", "officer-", "dept-")
    assert all(f in texts["en"] or f.startswith(generated) for f in files)


def test_status_message_says_position_wait_and_options() -> None:
    assert status_message(2, 81.7, recovery=False) == [
        "position_is", "num-2", "in_line", "waited", "num-1", "minute", "num-21", "seconds",
        "press_1", "press_0"]
    assert status_message(1, 20.2, recovery=True)[-4:] == ["seconds", "recovery", "press_1",
                                                           "press_0"]
    assert "num-99" in status_message(150, 0, recovery=False)


def test_transfer_announcement_says_extension_digit_by_digit() -> None:
    assert transfer_announcement("2101", "finance") == [
        "transfer_to", "officer-2101", "dept-finance", "extension",
        "num-2", "num-1", "num-0", "num-1"]


def test_a_missing_texts_file_is_a_prompt_error_naming_the_flag(tmp_path: Path) -> None:
    with pytest.raises(PromptError, match=r"cannot read .*\$CALLSLA_PROMPT_TEXTS"):
        load_texts(tmp_path / "none.toml")
