"""Legs as columns: stored rows straight into a pandas frame, for exports of millions of legs.

Building one `CallLeg` per row costs about half of a large export; here each chunk of rows is
turned into typed columns at once. Times come out as UTC `datetime64[us, UTC]`, read exactly
as `Dialect.time_value` reads them (SQLite's UTC text, PostgreSQL's timestamptz; a time
without a zone is UTC). Enum columns are checked against their enums, as `leg_from_row` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from monitor.core.records import LegKind, MissedCause, Outcome
from monitor.store._errors import StoreError
from monitor.store._rows import LEG_COLUMNS

LEG_FRAME_TEXT = ("pbx", "leg_id", "call_id", "uniqueid", "kind", "caller_number",
                  "caller_name", "queue", "department", "officer", "answered_by", "outcome",
                  "missed_cause", "returned_from", "source")
LEG_FRAME_TIMES = ("offered_at", "answered_at", "ended_at")
LEG_FRAME_COLUMNS = (*LEG_FRAME_TEXT, *LEG_FRAME_TIMES, "voicemail")
_ENUMS: dict[str, frozenset[str]] = {
    "kind": frozenset(k.value for k in LegKind),
    "outcome": frozenset(o.value for o in Outcome),
    "missed_cause": frozenset(c.value for c in MissedCause),
}


def _times(values: Sequence[Any]) -> pd.Series:
    series = pd.Series(values, dtype=object)
    if isinstance(next((v for v in values if v is not None), None), str):  # SQLite's text
        return pd.to_datetime(series, format="ISO8601", utc=True).dt.as_unit("us")
    return pd.to_datetime(series, utc=True).dt.as_unit("us")


def _checked(name: str, column: pd.Series) -> pd.Series:
    allowed = _ENUMS.get(name)
    if allowed is not None:
        unknown = set(column.dropna().unique()) - allowed
        if unknown:
            raise StoreError(f"call_legs.{name} holds unknown value(s) {sorted(unknown)}")
    return column


def leg_columns(found: Sequence[Sequence[Any]]) -> pd.DataFrame:
    """Rows in `LEG_COLUMNS` order as a frame of `LEG_FRAME_COLUMNS`.

    `missed_cause` is NA where the store has none (NULL or empty), as `leg_from_row` gives
    None; text columns are pandas `string`, `voicemail` bool.
    """
    by_name = dict(zip(LEG_COLUMNS, zip(*found, strict=True), strict=True)) if found else {
        name: () for name in LEG_COLUMNS}
    frame: dict[str, pd.Series] = {}
    for name in LEG_FRAME_TEXT:
        column = pd.Series(by_name[name], dtype=object)
        if name == "missed_cause":
            column = column.where(column.notna() & (column != ""), None)
        frame[name] = _checked(name, column).astype("string")
    for name in LEG_FRAME_TIMES:
        frame[name] = _times(by_name[name])
    frame["voicemail"] = pd.Series(by_name["voicemail"], dtype=object).astype(bool)
    return pd.DataFrame(frame, columns=list(LEG_FRAME_COLUMNS))
