"""Speak the prompt texts with espeak-ng and convert them with sox to what Asterisk plays."""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import shutil
import subprocess
import tempfile
import wave
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from agi_scripts.prompts import LANGUAGES, MAX_NUMBER, load_texts, number_words
from monitor.core.directory import Directory, directory_path, load_directory

VOICES = {"ms": "ms", "en": "en-gb"}
RATE = 8000
# app_queue plays these itself (queues.conf periodic-announce) and decides on a whole-second
# clock, checked once a second after the prompt ends, whether the next one is due: a prompt of
# 5.7 s gives intervals of 19.7 or 20.7 s. Padded with silence to a whole number of seconds less
# the loop's own time after a prompt (measured 7.7-10.6 ms on Asterisk 22.10), the next check
# falls 20.00 s after the start. docs/decisions.md "Status messages at the front desk".
WHOLE_SECOND_PROMPTS = frozenset({"frontdesk_status"})
QUEUE_LOOP_SECONDS = 0.009


class PromptBuildError(RuntimeError):
    """espeak-ng or sox is missing or failed; the message names the prompt."""


def prompt_texts(directory: Directory, texts_file: Path | None = None) -> dict[str, str]:
    """Every prompt to build, as `<lang>/<key>` -> text (fixed texts, numbers, names)."""
    texts = load_texts(texts_file)
    wanted: dict[str, str] = {}
    for lang in LANGUAGES:
        wanted.update({f"{lang}/{key}": text for key, text in texts[lang].items()})
        wanted.update({f"{lang}/num-{n}": number_words(n, lang) for n in range(MAX_NUMBER + 1)})
        for officer in directory.officers.values():
            wanted[f"{lang}/officer-{officer.extension}"] = officer.name
        for dept in directory.departments:
            wanted[f"{lang}/dept-{dept}"] = directory.department_name(dept, lang)
    return wanted


def build_prompts(out_dir: Path, *, directory_file: Path | None = None,
                  texts_file: Path | None = None, cache_dir: Path | None = None) -> Path:
    """Write `<out_dir>/<lang>/<key>.wav` (8 kHz, mono, 16-bit); reuse a cached build if any."""
    source = directory_path(directory_file)
    wanted = prompt_texts(load_directory(source), texts_file)
    # The build's own rules are in the key too: a changed padding is a new build.
    rules = (sorted(WHOLE_SECOND_PROMPTS), QUEUE_LOOP_SECONDS)
    digest = hashlib.sha256(repr((sorted(wanted.items()), rules)).encode()).hexdigest()[:16]
    if cache_dir is not None:
        cached = cache_dir / f"prompts-{digest}"
        if not (cached / ".complete").exists():
            partial = cache_dir / f".prompts-{digest}.{os.getpid()}"
            shutil.rmtree(partial, ignore_errors=True)
            _speak_all(wanted, partial)
            (partial / ".complete").write_text(digest)
            shutil.rmtree(cached, ignore_errors=True)
            with contextlib.suppress(OSError):  # another lab may have just put the same there
                partial.rename(cached)
            shutil.rmtree(partial, ignore_errors=True)
        shutil.rmtree(out_dir, ignore_errors=True)
        shutil.copytree(cached, out_dir)
        return out_dir
    _speak_all(wanted, out_dir)
    return out_dir


def _speak_all(wanted: dict[str, str], out_dir: Path) -> None:
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise PromptBuildError(f"{tool} is not installed (apt-get install espeak-ng sox)")
    for lang in LANGUAGES:
        (out_dir / lang).mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda item: _speak(item[0], item[1], out_dir), wanted.items()))


def whole_second_length(seconds: float) -> float:
    """The padded length of a prompt app_queue repeats: the next whole second less the loop's
    time, never shorter than the prompt (6.988 s -> 6.991 s, 5.713 s -> 5.991 s)."""
    if seconds < 0:
        raise ValueError(f"a prompt cannot last {seconds} s")
    return math.ceil(seconds + QUEUE_LOOP_SECONDS) - QUEUE_LOOP_SECONDS


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


def _speak(name: str, text: str, out_dir: Path) -> None:
    lang = name.split("/", 1)[0]
    target = out_dir / f"{name}.wav"
    with tempfile.NamedTemporaryFile(suffix=".wav") as raw:
        steps = (
            ["espeak-ng", "-v", VOICES[lang], "-s", "175", "-w", raw.name, "--", text],
            ["sox", raw.name, "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer",
             str(target), "silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02",
             "0.5%", "reverse", "pad", "0", "0.15"],
        )
        for argv in steps:
            _run(argv, name)
    if name.split("/", 1)[1] in WHOLE_SECOND_PROMPTS:
        _pad_to_whole_seconds(target, name)


def _pad_to_whole_seconds(target: Path, name: str) -> None:
    frames = round(whole_second_length(wav_seconds(target)) * RATE)
    padded = target.with_suffix(".padded.wav")
    _run(["sox", str(target), str(padded), "pad", "0", "1", "trim", "0", f"{frames}s"], name)
    padded.replace(target)


def _run(argv: list[str], name: str) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PromptBuildError(f"{argv[0]} failed for {name}: {result.stderr.strip()}")
