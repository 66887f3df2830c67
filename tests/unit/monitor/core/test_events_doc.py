"""docs/events.md says what `monitor/core/events.py` checks: the same types, fields and types."""

from __future__ import annotations

import re
import types
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

from monitor.core.events import EVENT_TYPES, CallEvent

DOC = Path(__file__).parents[4] / "docs" / "events.md"
NAME = re.compile(r"`(\w+)`")
TYPED = re.compile(r"`(\w+)` \((\w+)( or null)?[:)]")
ENVELOPE = {"schema": "int", "type": "str"}  # on the wire, not fields of the dataclasses


def _table(header: str) -> list[list[str]]:
    """The rows of the markdown table that starts with `header`, as cells."""
    lines = DOC.read_text().splitlines()
    start = lines.index(header) + 2
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def _doc_type(hint: Any) -> str:
    """How the doc writes a field's type: str, int, float or time, `or null` if optional."""
    nullable = get_origin(hint) in (Union, types.UnionType) and type(None) in get_args(hint)
    if nullable:
        (hint,) = [arg for arg in get_args(hint) if arg is not type(None)]
    name = "time" if hint is datetime else hint.__name__
    return f"{name} or null" if nullable else name


def _schema_fields(cls: type[CallEvent]) -> dict[str, str]:
    hints = get_type_hints(cls)
    return {f.name: _doc_type(hints[f.name]) for f in fields(cls)}


def test_the_common_fields_are_the_schema_s() -> None:
    documented: dict[str, str] = {}
    for names, kind, _meaning in _table("| field | type | meaning |"):
        for name in NAME.findall(names):
            documented[name] = kind
    assert documented == {**ENVELOPE, **_schema_fields(CallEvent)}


def test_every_type_and_its_extra_fields_are_the_schema_s() -> None:
    common = _schema_fields(CallEvent)
    documented: dict[str, dict[str, str]] = {}
    for kind, extra, _when in _table("| type | extra fields | published when |"):
        (name,) = NAME.findall(kind)
        typed = {field: f"{base}{null or ''}" for field, base, null in TYPED.findall(extra)}
        untyped = set(NAME.findall(extra)) - set(typed)
        assert not untyped, f"{name}: give the type of {sorted(untyped)} in docs/events.md"
        documented[name] = typed
    in_schema = {name: {field: kind for field, kind in _schema_fields(cls).items()
                        if field not in common}
                 for name, cls in EVENT_TYPES.items()}
    assert documented == in_schema
