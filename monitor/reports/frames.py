"""Call legs as pandas DataFrames in the export's column order, times in the charter's zone."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from monitor.core.charter import Charter
from monitor.core.definitions import (
    answered_within,
    answered_within_column,
    is_short_abandon,
    missed_cause,
    missed_cause_column,
    short_abandon_column,
)
from monitor.core.records import CallLeg, Outcome
from monitor.reports.columns import COLUMN_NAMES, EXPORT_COLUMNS, TIME_COLUMNS


def _time_dtype(zone: ZoneInfo) -> pd.DatetimeTZDtype:
    return pd.DatetimeTZDtype(unit="us", tz=zone.key)


def time_series(values: Sequence[datetime | None], zone: ZoneInfo) -> pd.Series:
    index = pd.DatetimeIndex(list(values)).tz_convert(zone)
    return pd.Series(index.astype(_time_dtype(zone)))


def _counted_as_offered(leg: CallLeg, charter: Charter) -> bool:
    """In the answer rate's denominator, as `monitor.core.definitions.answer_rate` counts it."""
    return (leg.outcome is not Outcome.IN_PROGRESS
            and not is_short_abandon(leg, charter.short_abandon_seconds))


def legs_frame(legs: Sequence[CallLeg], charter: Charter,
               callback_ids: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One row per leg; `callback_ids` maps call_id to the callback opened for its message."""
    callbacks = callback_ids or {}
    zone = charter.timezone
    data: dict[str, object] = {
        "pbx": [leg.pbx for leg in legs],
        "call_id": [leg.call_id for leg in legs],
        "leg_id": [leg.leg_id for leg in legs],
        "kind": [leg.kind.value for leg in legs],
        "queue": [leg.queue for leg in legs],
        "department": [leg.department for leg in legs],
        "officer": [leg.officer for leg in legs],
        "caller_number": [leg.caller_number for leg in legs],
        "caller_name": [leg.caller_name for leg in legs],
        "offered_at": time_series([leg.offered_at for leg in legs], zone),
        "answered_at": time_series([leg.answered_at for leg in legs], zone),
        "ended_at": time_series([leg.ended_at for leg in legs], zone),
        "answer_wait_seconds": pd.array([leg.answer_wait_seconds for leg in legs],
                                        dtype="Float64"),
        "answered_within_standard": [answered_within(leg, charter.answer_within_seconds)
                                     for leg in legs],
        "counted_as_offered": [_counted_as_offered(leg, charter) for leg in legs],
        "outcome": [leg.outcome.value for leg in legs],
        "missed_cause": [cause.value if (cause := missed_cause(leg)) else ""
                         for leg in legs],
        "answered_by": [leg.answered_by for leg in legs],
        "returned_from": [leg.returned_from for leg in legs],
        "voicemail": [leg.voicemail for leg in legs],
        "callback_id": [callbacks.get(leg.call_id, "") for leg in legs],
        "source": [leg.source for leg in legs],
    }
    frame = pd.DataFrame({name: pd.Series(data[name]) if isinstance(data[name], list)
                          else data[name] for name in COLUMN_NAMES})
    return _with_export_dtypes(frame)


def seconds_between(start: pd.Series, end: pd.Series) -> NDArray[np.float64]:
    """`(end - start).total_seconds()` per row, NaN where either is missing: whole
    microseconds divided by 10**6, correctly rounded as Python's `timedelta` does."""
    micros = (end.dt.as_unit("us") - start.dt.as_unit("us")).to_numpy(dtype="timedelta64[us]")
    seconds = micros.astype("int64").astype("float64") / 1e6
    return np.where(np.isnat(micros), np.nan, seconds)


def _objects(series: pd.Series) -> NDArray[np.object_]:
    """Values as Python objects, None where missing (pandas' NA is not falsy)."""
    values: NDArray[np.object_] = series.to_numpy(dtype=object)
    values[series.isna().to_numpy()] = None
    return values


def counted_as_offered_column(outcome: NDArray[np.object_],
                              short_abandons: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """`_counted_as_offered` per leg, from `short_abandon_column`."""
    return np.asarray((outcome != Outcome.IN_PROGRESS.value) & ~short_abandons, dtype=bool)


def legs_frame_from_columns(legs: pd.DataFrame, charter: Charter,
                            callback_ids: Mapping[str, str] | None = None) -> pd.DataFrame:
    """`legs_frame` from the store's leg columns (`Store.leg_frames_between`) without a
    `CallLeg` per row: the same frame, the definitions applied column-wise."""
    zone = charter.timezone
    outcome = _objects(legs["outcome"])
    causes = missed_cause_column(outcome, _objects(legs["missed_cause"]))
    wait = seconds_between(legs["offered_at"], legs["answered_at"])
    short = short_abandon_column(causes, seconds_between(legs["offered_at"], legs["ended_at"]),
                                 charter.short_abandon_seconds)
    callbacks = callback_ids or {}
    frame = legs[[name for name in COLUMN_NAMES if name in legs]].reset_index(drop=True)
    for name in ("offered_at", "answered_at", "ended_at"):
        frame[name] = frame[name].dt.tz_convert(zone.key).astype(_time_dtype(zone))
    frame["answer_wait_seconds"] = pd.array(wait, dtype="Float64")
    frame["answered_within_standard"] = answered_within_column(wait,
                                                               charter.answer_within_seconds)
    frame["counted_as_offered"] = counted_as_offered_column(outcome, short)
    frame["missed_cause"] = pd.array(causes, dtype="string")
    frame["voicemail"] = frame["voicemail"].to_numpy(dtype=bool)
    frame["callback_id"] = pd.array([callbacks.get(c, "") for c in _objects(frame["call_id"])],
                                    dtype="string")
    frame = frame[list(COLUMN_NAMES)]
    return _with_export_dtypes(frame)


def _offset_text(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{rest:02d}"


def iso_text(series: pd.Series) -> pd.Series:
    """ISO 8601 with the zone offset (`2026-07-01T09:00:03.250000+08:00`); empty for no time.

    Vectorised through numpy: pandas' `strftime` costs about 30 s per million times.
    """
    local = series.dt.tz_localize(None)
    utc = series.dt.tz_convert("UTC").dt.tz_localize(None)
    offsets = ((local - utc).dt.total_seconds() // 60).fillna(0).astype("int64")
    stamps = np.datetime_as_string(local.to_numpy(dtype="datetime64[us]"), unit="us")
    zones = offsets.map({m: _offset_text(m) for m in offsets.unique()}).to_numpy(dtype=str)
    text = np.char.add(stamps.astype(str), zones)
    return pd.Series(np.where(series.isna().to_numpy(), "", text), index=series.index,
                     dtype="string")


def as_text_times(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose time columns are ISO text: CSV and Excel keep the offset that way."""
    out = frame.copy()
    for name in TIME_COLUMNS:
        if name in out:
            out[name] = iso_text(frame[name])
    return out


def from_text_times(frame: pd.DataFrame, zone: ZoneInfo) -> pd.DataFrame:
    """Inverse of `as_text_times`, for reading an export back."""
    out = frame.copy()
    for name in (n for n in TIME_COLUMNS if n in out):
        text = out[name].astype("string")
        text = text.where(text != "")
        out[name] = pd.to_datetime(text, format="ISO8601", utc=True).dt.tz_convert(
            zone).astype(_time_dtype(zone))
    return out


def _with_export_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as pandas strings and flags as bools, whichever read built the frame."""
    for column in EXPORT_COLUMNS:
        if column.kind == "text":
            frame[column.name] = frame[column.name].astype("string")
        elif column.kind == "bool":
            frame[column.name] = frame[column.name].astype("bool")
    return frame
