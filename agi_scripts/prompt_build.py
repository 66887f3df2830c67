"""Speak the prompt texts with espeak-ng and convert them with sox to what Asterisk plays."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from agi_scripts.prompts import LANGUAGES, MAX_NUMBER, load_texts, number_words
from monitor.core.directory import Directory, directory_path, load_directory

VOICES = {"ms": "ms", "en": "en-gb"}


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
    digest = hashlib.sha256(repr(sorted(wanted.items())).encode()).hexdigest()[:16]
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


def _speak(name: str, text: str, out_dir: Path) -> None:
    lang = name.split("/", 1)[0]
    target = out_dir / f"{name}.wav"
    with tempfile.NamedTemporaryFile(suffix=".wav") as raw:
        steps = (
            ["espeak-ng", "-v", VOICES[lang], "-s", "175", "-w", raw.name, "--", text],
            ["sox", raw.name, "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer",
             str(target), "silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02",
             "0.5%", "reverse", "pad", "0", "0.15"],
        )
        for argv in steps:
            result = subprocess.run(argv, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                raise PromptBuildError(f"{argv[0]} failed for {name}: {result.stderr.strip()}")
