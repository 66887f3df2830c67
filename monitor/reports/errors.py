"""The one error type the export, report and callback commands raise for bad input."""

from __future__ import annotations


class ReportError(ValueError):
    """Bad input or an unusable destination; the message is one line an auditor can act on."""
