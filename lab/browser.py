"""Headless Chromium for the lab: the rendered DOM of a page, or a screenshot of it."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from lab.processes import LabStartError

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--no-first-run", "--hide-scrollbars", "--disable-extensions")


def _chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        raise LabStartError("chromium is not installed: run `make setup` (Debian package chromium)")
    return path


def _run(url: str, *extra: str, wait_ms: int) -> subprocess.CompletedProcess[str]:
    """`wait_ms` of virtual time lets the page's scripts fetch and render before the capture."""
    with tempfile.TemporaryDirectory(prefix="callsla-chromium-") as profile:
        return subprocess.run(
            [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
             f"--virtual-time-budget={wait_ms}", *extra, url],
            capture_output=True, text=True, timeout=60, check=True,
        )


def rendered_dom(url: str, *, wait_ms: int = 3000) -> str:
    return _run(url, "--dump-dom", wait_ms=wait_ms).stdout


def screenshot(url: str, path: Path, *, width: int = 1920, height: int = 1080,
               wait_ms: int = 3000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    _run(url, f"--screenshot={path}", f"--window-size={width},{height}", wait_ms=wait_ms)
    return path
