"""PDPA 2010: caller numbers and names are masked in exports unless an auditor states a reason."""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitor.reports.errors import ReportError

if TYPE_CHECKING:
    import pandas as pd

KEEP_DIGITS = 4


def mask_number(number: str) -> str:
    """Keep the last 4 characters, star the rest: `60123456789` -> `*******6789`."""
    if len(number) <= KEEP_DIGITS:
        return "*" * len(number)
    return "*" * (len(number) - KEEP_DIGITS) + number[-KEEP_DIGITS:]


def mask_name(name: str) -> str:
    """Initials only: `Siti Aminah` -> `S*** A***`."""
    return " ".join(f"{word[0]}***" for word in name.split())


def mask_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Mask the personal columns in place and return the frame."""
    if "caller_number" in frame:
        frame["caller_number"] = frame["caller_number"].map(mask_number)
    if "caller_name" in frame:
        frame["caller_name"] = frame["caller_name"].map(mask_name)
    return frame


def check_unmask_request(*, unmasked: bool, reason: str | None) -> str:
    """An unmasked export needs a stated reason; it is kept in the export log."""
    reason = (reason or "").strip()
    if unmasked and not reason:
        raise ReportError("--unmasked needs --reason TEXT (PDPA 2010: say why personal data "
                          "leaves the system)")
    if not unmasked and reason:
        raise ReportError("--reason is only for --unmasked exports")
    return reason
