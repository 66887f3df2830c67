"""What each call-flow message says, as a list of prompt files; numbers in Malay and English."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from asterisk_conf import PROMPT_TEXTS_FILE

TEXTS_FILE = PROMPT_TEXTS_FILE  # package data; CALLSLA_PROMPT_TEXTS or --texts for a site's own
TEXTS_ENV = "CALLSLA_PROMPT_TEXTS"
LANGUAGES = ("ms", "en")
MAX_NUMBER = 99  # number prompts are generated for 0..99; larger values are said as 99

_EN_ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
            "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
            "eighteen", "nineteen")
_EN_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_MS_ONES = ["kosong", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "lapan", "sembilan"]


class PromptError(ValueError):
    """The texts file lacks a prompt in a language, or a number is out of range."""


def number_words(n: int, language: str) -> str:
    """0..99 as words: `dua puluh satu`, `twenty-one`, `sebelas`, `eleven`."""
    if not 0 <= n <= MAX_NUMBER:
        raise PromptError(f"number {n} outside 0..{MAX_NUMBER}")
    if language == "en":
        if n < 20:
            return _EN_ONES[n]
        tens, ones = divmod(n, 10)
        return _EN_TENS[tens] + (f"-{_EN_ONES[ones]}" if ones else "")
    if language == "ms":
        if n < 10:
            return _MS_ONES[n]
        if n == 10:
            return "sepuluh"
        if n == 11:
            return "sebelas"
        if n < 20:
            return f"{_MS_ONES[n - 10]} belas"
        tens, ones = divmod(n, 10)
        return f"{_MS_ONES[tens]} puluh" + (f" {_MS_ONES[ones]}" if ones else "")
    raise PromptError(f"no number words for language {language!r}")


def texts_path(path: Path | None = None) -> Path:
    """The texts file: the argument, else $CALLSLA_PROMPT_TEXTS, else the packaged one."""
    if path is not None:
        return path
    env = os.environ.get(TEXTS_ENV)
    return Path(env) if env else TEXTS_FILE


def load_texts(path: Path | None = None) -> dict[str, dict[str, str]]:
    """Prompt texts by language then key; every key must exist in every language."""
    path = texts_path(path)
    try:
        doc = tomllib.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise PromptError(f"cannot read prompt texts {path}: {exc.strerror} "
                          f"(--texts or ${TEXTS_ENV})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PromptError(f"{path}: not valid TOML: {exc}") from exc
    texts = {lang: {k: str(v) for k, v in doc.get(lang, {}).items()} for lang in LANGUAGES}
    keys = set().union(*(t.keys() for t in texts.values()))
    for lang, table in texts.items():
        missing = keys - table.keys()
        if missing:
            raise PromptError(f"{path}: [{lang}] lacks {', '.join(sorted(missing))}")
    return texts


def number(n: int) -> str:
    return f"num-{min(max(n, 0), MAX_NUMBER)}"


def transfer_announcement(extension: str, department: str) -> list[str]:
    """T-e: the officer's name, department and extension (digit by digit), before ringing."""
    return ["transfer_to", f"officer-{extension}", f"dept-{department}", "extension",
            *(number(int(d)) for d in extension)]


def status_message(position: int, waited_seconds: float, *, recovery: bool) -> list[str]:
    """T-f: position in line, time waited, and the options (1 message, 0 front desk)."""
    minutes, seconds = divmod(int(waited_seconds), 60)
    files = ["position_is", number(position), "in_line", "waited"]
    if minutes:
        files += [number(minutes), "minute" if minutes == 1 else "minutes"]
    files += [number(seconds), "second" if seconds == 1 else "seconds"]
    if recovery:  # service recovery: say so before the caller has to complain
        files.append("recovery")
    return [*files, "press_1", "press_0"]
