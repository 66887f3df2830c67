"""AMI message framing: one message is `Key: Value` lines ended by a blank line."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TypeVar, overload

_T = TypeVar("_T")

# Keys that Asterisk repeats inside one message (e.g. ChanVariable); their values are joined.
_REPEATABLE = frozenset({"chanvariable", "output"})


class AmiMessage(Mapping[str, str]):
    """One AMI event or response, keyed case-insensitively as Asterisk's own parser does."""

    __slots__ = ("_fields",)

    def __init__(self, fields: dict[str, str]) -> None:
        self._fields = fields

    def __getitem__(self, key: str) -> str:
        return self._fields[key.lower()]

    @overload
    def get(self, key: str, /) -> str | None: ...
    @overload
    def get(self, key: str, /, default: str) -> str: ...
    @overload
    def get(self, key: str, /, default: _T) -> str | _T: ...

    def get(self, key: str, /, default: object = None) -> object:
        """Like Mapping.get, without the exception round trip (this is the hot path)."""
        return self._fields.get(key.lower(), default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __repr__(self) -> str:
        return f"AmiMessage({self._fields!r})"

    @property
    def event(self) -> str | None:
        """The event name, or None for an action response."""
        return self._fields.get("event")

    @property
    def is_response(self) -> bool:
        return "response" in self._fields

    @property
    def succeeded(self) -> bool:
        return self._fields.get("response", "").lower() in {"success", "follows", "goodbye"}


def parse_message(lines: list[str]) -> AmiMessage:
    """Parse the lines of one message; a line without ':' is kept under `output`.

    Asterisk writes `Key: Value`; that common case costs one partition and one lower().
    """
    fields: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.partition(": ")
        if not sep:
            key, sep, value = line.partition(":")
            if not sep:
                key, value = "output", line
            value = value.strip()
        key = key.strip().lower() if key[-1:] == " " or key[:1] == " " else key.lower()
        if key in fields and key in _REPEATABLE:
            fields[key] = f"{fields[key]}\n{value}"
        else:
            fields[key] = value
    return AmiMessage(fields)
