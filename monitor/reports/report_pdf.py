"""HTML to PDF (and PNG screenshots) with headless Chromium, so the PDF is the HTML as printed."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from monitor.reports.errors import ReportError

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
TIMEOUT_SECONDS = 120.0


def find_chromium() -> str:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise ReportError("PDF needs Chromium (Debian package `chromium`); "
                      "or use --format html or xlsx")


def _run_chromium(html: str, *flags: str) -> None:
    with tempfile.TemporaryDirectory(prefix="callsla-chromium-") as work:
        page = Path(work) / "report.html"
        page.write_text(html, encoding="utf-8")
        command = [find_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                   "--disable-dev-shm-usage", "--no-first-run", "--hide-scrollbars",
                   f"--user-data-dir={work}/profile", *flags, page.as_uri()]
        try:
            done = subprocess.run(command, capture_output=True, text=True,
                                  timeout=TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired:
            raise ReportError(f"Chromium did not finish within {TIMEOUT_SECONDS:g} s") from None
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise ReportError(f"Chromium failed (exit {done.returncode}): {last}")


def html_to_pdf(html: str, out: Path) -> None:
    """A4 landscape (the page size comes from the report's CSS), no header or footer."""
    _run_chromium(html, f"--print-to-pdf={out}", "--no-pdf-header-footer")
    if not out.is_file() or out.stat().st_size == 0:
        raise ReportError("Chromium wrote no PDF")


def html_screenshot(html: str, out: Path, *, width: int = 1400, height: int = 2400) -> None:
    _run_chromium(html, f"--screenshot={out}", f"--window-size={width},{height}")
    if not out.is_file():
        raise ReportError("Chromium wrote no screenshot")
