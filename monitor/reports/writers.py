"""Chunked export writers: CSV, Excel (xlsx) and Parquet, each fed one DataFrame at a time."""

from __future__ import annotations

import contextlib
from pathlib import Path
from types import TracebackType
from typing import Protocol

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from monitor.reports.formats import ExportFormat
from monitor.reports.formula_cells import neutralise_table
from monitor.reports.frames import as_text_times
from monitor.reports.xlsx_stream import StreamingXlsx

EXCEL_MAX_ROWS = 1_048_576  # per sheet, header included: longer exports continue on a new sheet


class ChunkWriter(Protocol):
    def write(self, frame: pd.DataFrame) -> None: ...
    def close(self) -> None: ...
    def abort(self) -> None: ...


class _ArrowTableWriter:
    """One pyarrow table per chunk into one file; the first chunk fixes the schema."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._writer: pa_csv.CSVWriter | pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None

    def _frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame

    def _table(self, table: pa.Table) -> pa.Table:
        return table

    def _open(self, schema: pa.Schema) -> pa_csv.CSVWriter | pq.ParquetWriter:
        raise NotImplementedError

    def write(self, frame: pd.DataFrame) -> None:
        table = self._table(pa.Table.from_pandas(self._frame(frame), schema=self._schema,
                                                 preserve_index=False))
        if self._writer is None:
            self._schema = table.schema
            self._writer = self._open(table.schema)
        self._writer.write_table(table)

    def close(self) -> None:
        if self._writer is None:
            raise ValueError("no rows were written")
        self._writer.close()

    def abort(self) -> None:
        with contextlib.suppress(OSError):  # a full disk: the temporary file is removed anyway
            if self._writer is not None:
                self._writer.close()


class CsvWriter(_ArrowTableWriter):
    """UTF-8, a header line, ISO 8601 times with their offset, `true`/`false`, formula-like
    text neutralised (`formula_cells`).

    Written by pyarrow's CSV writer: pandas' `to_csv` took about 9 s a million rows here.
    """

    def _frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        return as_text_times(frame)

    def _table(self, table: pa.Table) -> pa.Table:
        return neutralise_table(table)

    def _open(self, schema: pa.Schema) -> pa_csv.CSVWriter:
        return pa_csv.CSVWriter(str(self._path), schema)


class ParquetWriter(_ArrowTableWriter):
    """Native tz-aware timestamps; the schema is fixed by the first chunk."""

    def _open(self, schema: pa.Schema) -> pq.ParquetWriter:
        return pq.ParquetWriter(self._path, schema, compression="zstd")


class ExcelWriter:
    """Times as ISO text so the offset survives; rows past a sheet's limit go to a new sheet."""

    def __init__(self, path: Path, *, sheet_title: str = "legs",
                 max_rows: int = EXCEL_MAX_ROWS) -> None:
        self._book = StreamingXlsx(path, title=sheet_title, max_rows=max_rows)

    def write(self, frame: pd.DataFrame) -> None:
        self._book.write(as_text_times(frame))

    def close(self) -> None:
        self._book.close()

    def abort(self) -> None:
        self._book.abort()


def open_writer(fmt: ExportFormat, path: Path) -> ChunkWriter:
    if fmt == "csv":
        return CsvWriter(path)
    if fmt == "parquet":
        return ParquetWriter(path)
    return ExcelWriter(path)


class closing_writer:  # noqa: N801 - reads like contextlib.closing
    """Close the writer on success; on failure release it (its temporary file is removed)."""

    def __init__(self, writer: ChunkWriter) -> None:
        self.writer = writer

    def __enter__(self) -> ChunkWriter:
        return self.writer

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if kind is None:
            self.writer.close()
        else:
            self.writer.abort()
