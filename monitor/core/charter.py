"""The versioned charter: the standards (10 s, 20 s, ...) every measurement is judged against."""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class CharterError(ValueError):
    """The charter file is missing a standard or has a value out of range."""


@dataclass(frozen=True)
class Charter:
    version: str
    effective_from: date
    timezone: ZoneInfo
    answer_within_seconds: float
    answer_rate_target: float
    status_interval_seconds: float
    transfer_ring_seconds: float
    short_abandon_seconds: float
    callback_due_hours: float
    max_wait_seconds: float
    # PDPA 2010: personal data is kept no longer than needed. Call records (legs, events,
    # status messages, closed callbacks) older than this many days are purged by
    # `callsla purge`; every report states it. None: the charter sets no period.
    retention_days: int | None = None


_POSITIVE = (
    "answer_within_seconds",
    "status_interval_seconds",
    "transfer_ring_seconds",
    "callback_due_hours",
    "max_wait_seconds",
)


def load_charter(path: Path | None = None) -> Charter:
    """Load a charter file; with no path, the packaged default charter."""
    if path is None:
        text = resources.files("monitor.core").joinpath("charter.toml").read_text("utf-8")
        origin = "the default charter"
    else:
        try:
            text = path.read_text("utf-8")
        except OSError as exc:
            raise CharterError(f"cannot read charter {path}: {exc.strerror}") from exc
        except UnicodeDecodeError as exc:
            raise CharterError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from exc
        origin = str(path)
    try:
        doc = tomllib.loads(text)
        std = doc["standards"]
        values = {name: float(std[name]) for name in (*_POSITIVE, "answer_rate_target",
                                                      "short_abandon_seconds")}
        version = str(doc["version"])
        effective = date.fromisoformat(str(doc["effective_from"]))
        zone = ZoneInfo(str(doc["timezone"]))
        retention = _retention_days(doc.get("retention", {}))
    except tomllib.TOMLDecodeError as exc:
        raise CharterError(f"{origin}: not valid TOML: {exc}") from exc
    except (ZoneInfoNotFoundError, OSError) as exc:  # ZoneInfo("America") opens a folder
        raise CharterError(f"{origin}: bad value: {exc}") from exc
    except KeyError as exc:
        raise CharterError(f"{origin}: missing {exc.args[0]!r}") from exc
    except (TypeError, ValueError) as exc:
        raise CharterError(f"{origin}: bad value: {exc}") from exc
    for name, value in values.items():  # TOML has inf and nan: no standard can be either
        if not math.isfinite(value):
            raise CharterError(f"{origin}: {name} must be a finite number, not {value}")
    for name in _POSITIVE:
        if values[name] <= 0:
            raise CharterError(f"{origin}: {name} must be > 0, not {values[name]}")
    if not 0 < values["answer_rate_target"] <= 1:
        raise CharterError(f"{origin}: answer_rate_target must be in (0, 1]")
    if values["short_abandon_seconds"] < 0:
        raise CharterError(f"{origin}: short_abandon_seconds must be >= 0")
    if retention is not None and retention < 1:
        raise CharterError(f"{origin}: retention.call_records_days must be >= 1, not {retention}")
    return Charter(version=version, effective_from=effective, timezone=zone,
                   retention_days=retention, **values)


def _retention_days(section: object) -> int | None:
    if not isinstance(section, dict):
        raise TypeError("[retention] must be a table")
    days = section.get("call_records_days")
    if days is None:
        return None
    if isinstance(days, bool) or not isinstance(days, int):
        raise TypeError(f"retention.call_records_days must be a whole number of days: {days!r}")
    return days
