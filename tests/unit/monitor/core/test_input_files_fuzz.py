"""Charter and directory files with any content: loaded whole, or one clear error, never a
traceback of another type (they are read at start, by the monitor, the AGI server and the CLI)."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from monitor.core.charter import CharterError, load_charter
from monitor.core.directory import DirectoryError, load_directory
from tests.support.fuzz_examples import examples

# TOML values of every type, and the awkward ones: non-finite floats, huge ints, odd zones.
toml_values = st.sampled_from([
    "10.0", "0", "-1", "1e400", "nan", "inf", "-inf", "1.5", "99999999999999999999", "true",
    '"x"', '""', '"Asia/Kuala_Lumpur"', '"America"', '"../../etc/passwd"', '"\\u0000"',
    '"2026-01-01"', "2026-01-01", "2026-13-40", "[]", "[1, 2]", "{a = 1}", '"in"', '"out"',
    '"2101"', '"12"', '"ms"', '"finance"', '"Puan \\"A\\""', '"a|b"', '"a\\nb"'])

VALID_CHARTER = {
    "": {"version": '"2026.1"', "effective_from": '"2026-01-01"',
         "timezone": '"Asia/Kuala_Lumpur"'},
    "standards": {"answer_within_seconds": "10.0", "answer_rate_target": "0.9",
                  "status_interval_seconds": "20.0", "transfer_ring_seconds": "20.0",
                  "short_abandon_seconds": "0.0", "callback_due_hours": "24.0",
                  "max_wait_seconds": "120.0"},
    "retention": {"call_records_days": "730"}}
STANDARD_KEYS = list(VALID_CHARTER["standards"])
VALID_DIRECTORY = {
    "departments.finance": {"ms": '"Bahagian Kewangan"', "en": '"Finance Division"'},
    "[officer]": {"extension": '"2101"', "name": '"Puan Aminah"', "department": '"finance"',
                  "mailbox": '"2101"', "status": '"in"', "language": '"ms"'}}


@st.composite
def mutated(draw: st.DrawFn, valid: dict[str, dict[str, str]]) -> str:
    """The valid file with up to three values replaced or removed, or a table renamed."""
    doc = {table: dict(values) for table, values in valid.items()}
    places = [(t, k) for t, values in doc.items() for k in values]
    for table, key in draw(st.lists(st.sampled_from(places), max_size=3, unique=True)):
        value = draw(st.one_of(st.none(), toml_values))
        if value is None:
            del doc[table][key]
        else:
            doc[table][key] = value
    if draw(st.booleans()) and len(doc) > 1:
        doc[draw(st.sampled_from(["Finance", "a-b", "x" * 40, "standards.x"]))] = doc.pop(
            draw(st.sampled_from(sorted(t for t in doc if t))))
    return "".join((f"[{t}]\n" if t else "") + "".join(f"{k} = {v}\n" for k, v in kv.items())
                   for t, kv in doc.items())


charter_text = st.one_of(mutated(VALID_CHARTER), st.sampled_from([
    "standards = 3\n", "retention = 1\n", "[retention]\n", "[[standards]]\n"]),
    st.text(max_size=200))

directory_text = st.one_of(
    mutated(VALID_DIRECTORY),
    st.sampled_from(["officer = 3\n", "officer = 'x'\n", "officer = [1]\n", "departments = 2\n",
                     "[officer]\nextension = '2101'\n", "departments = {a = 1}\n"]),
    st.text(max_size=200))

raw_bytes = st.binary(max_size=120)


def _write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8", "replace"))
    return path


@settings(max_examples=examples(300), deadline=None)
@given(st.one_of(charter_text, raw_bytes))
@example(b"\xff")  # each was a traceback or an accepted charter before its fix
@example('version = "1"\neffective_from = "2026-01-01"\ntimezone = "America"\n[standards]\n')
@example("".join((f"[{t}]\n" if t else "") + "".join(
    f"{k} = {'1e400' if k == 'answer_within_seconds' else v}\n" for k, v in kv.items())
    for t, kv in VALID_CHARTER.items()))
def test_a_charter_file_loads_or_raises_charter_error(data: str | bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = _write(Path(folder), "charter.toml", data)
        try:
            charter = load_charter(path)
        except CharterError as exc:
            event(f"refused: {str(exc).split(': ', 2)[1][:24]}")
            return
    event("loaded")
    for name in STANDARD_KEYS:  # a loaded charter has usable standards
        assert math.isfinite(getattr(charter, name)), name


@settings(max_examples=examples(300), deadline=None)
@given(st.one_of(directory_text, raw_bytes))
@example(b"\xff")
@example("officer = 3\n")
def test_a_directory_file_loads_or_raises_directory_error(data: str | bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = _write(Path(folder), "officers.toml", data)
        try:
            directory = load_directory(path)
        except DirectoryError:
            event("refused")
            return
    event(f"loaded {len(directory.officers)} officers")
    for officer in directory.officers.values():
        assert officer.department in directory.departments
