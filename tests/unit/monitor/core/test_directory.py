"""The officers' directory: the sample file loads, and bad entries fail with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.core.directory import DirectoryError, OfficerStatus, load_directory


def test_sample_directory_loads() -> None:
    directory = load_directory()
    officer = directory.officer("2101")
    assert officer is not None
    assert officer.department == "finance"
    assert officer.status is OfficerStatus.IN
    assert directory.department_name("finance", "ms") == "Bahagian Kewangan"
    assert directory.department_name("finance", "en") == "Finance Division"
    assert directory.department_ids == ["enforcement", "finance", "licensing"]
    assert directory.officer("9999") is None


def _write(tmp_path: Path, officer: str) -> Path:
    path = tmp_path / "officers.toml"
    path.write_text('[departments.finance]\nms = "Kewangan"\n\n[[officer]]\n' + officer)
    return path


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('name = "A"\ndepartment = "finance"\n', "missing 'extension'"),
        ('extension = "21x"\nname = "A"\ndepartment = "finance"\n', "2-8 digits"),
        ('extension = "2101"\nname = "A"\ndepartment = "hr"\n', "not in [departments]"),
        ('extension = "2101"\nname = "A"\ndepartment = "finance"\nstatus = "away"\n', "status"),
        ('extension = "2101"\nname = "A\\nEXEC"\ndepartment = "finance"\n', "one line"),
        ('extension = "2101"\nname = "A"\ndepartment = "finance"\nlanguage = "fr"\n', "language"),
    ],
)
def test_bad_entries_are_refused(tmp_path: Path, entry: str, message: str) -> None:
    with pytest.raises(DirectoryError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_directory(_write(tmp_path, entry))


def test_duplicate_extension_is_refused(tmp_path: Path) -> None:
    one = 'extension = "2101"\nname = "A"\ndepartment = "finance"\n'
    path = _write(tmp_path, one + "\n[[officer]]\n" + one)
    with pytest.raises(DirectoryError, match="listed twice"):
        load_directory(path)


def test_missing_file_is_a_directory_error(tmp_path: Path) -> None:
    with pytest.raises(DirectoryError, match="cannot read"):
        load_directory(tmp_path / "nope.toml")
