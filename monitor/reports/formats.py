"""The file formats exports and reports can be written in (light to import: the CLI needs it)."""

from __future__ import annotations

from typing import Literal

ExportFormat = Literal["csv", "xlsx", "parquet"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("csv", "xlsx", "parquet")
ReportFormat = Literal["xlsx", "pdf", "html"]
REPORT_FORMATS: tuple[ReportFormat, ...] = ("xlsx", "pdf", "html")
