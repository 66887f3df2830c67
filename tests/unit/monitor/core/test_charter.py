"""The charter file: its retention period (PDPA 2010) is optional, whole days, >= 1."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from monitor.core.charter import CharterError, load_charter

DEFAULT = resources.files("monitor.core").joinpath("charter.toml").read_text("utf-8")
WITHOUT_RETENTION = DEFAULT.split("[retention]")[0]


def test_the_default_charter_keeps_call_records_two_years() -> None:
    assert load_charter().retention_days == 730


def test_a_charter_without_retention_sets_none(tmp_path: Path) -> None:
    path = tmp_path / "charter.toml"
    path.write_text(WITHOUT_RETENTION)
    assert load_charter(path).retention_days is None


@pytest.mark.parametrize(("value", "message"), [
    ("0", "must be >= 1"), ("-5", "must be >= 1"), ("30.5", "whole number of days"),
    ('"730"', "whole number of days"), ("true", "whole number of days")])
def test_a_bad_retention_is_refused(tmp_path: Path, value: str, message: str) -> None:
    path = tmp_path / "charter.toml"
    path.write_text(f"{WITHOUT_RETENTION}[retention]\ncall_records_days = {value}\n")
    with pytest.raises(CharterError, match=message):
        load_charter(path)
