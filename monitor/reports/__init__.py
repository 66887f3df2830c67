"""Auditors' side of callsla: exports, the quarterly charter report and the callback register."""

from monitor.reports.errors import ReportError

__all__ = ["ReportError"]
