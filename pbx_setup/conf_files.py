"""Read Asterisk's .conf files the way Asterisk does (sections, `=`/`=>`, `;` comments,
`#include`/`#tryinclude` relative to etc/), for `callsla pbx check`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_SECTION = re.compile(r"^\[([^\]]+)\](?:\(([^)]*)\))?")
TEMPLATES = "(templates)"  # not a keyword: the parents named in a section's header
_INCLUDE = re.compile(r'^#(?:try)?include\s+"?([^"]+)"?')


@dataclass(frozen=True)
class ConfLine:
    section: str
    key: str
    value: str
    where: str  # file:line, for the report


def _strip_comment(line: str) -> str:
    return re.split(r"(?<!\\);", line, maxsplit=1)[0].strip()


def read_conf(etc: Path, name: str, *, _depth: int = 0) -> list[ConfLine]:
    """Every setting of `name` and the files it includes; a missing file reads as empty."""
    path = etc / name
    if _depth > 10 or not path.is_file():
        return []
    lines: list[ConfLine] = []
    section = ""
    for number, raw in enumerate(path.read_text("utf-8", errors="replace").splitlines(), 1):
        include = _INCLUDE.match(raw.strip())
        if include:
            for item in read_conf(etc, include.group(1), _depth=_depth + 1):
                lines.append(item if item.section else ConfLine(section, item.key, item.value,
                                                               item.where))
            continue
        text = _strip_comment(raw)
        if not text:
            continue
        header = _SECTION.match(text)
        if header:
            section = header.group(1).strip()
            lines.append(ConfLine(section, "", "", f"{name}:{number}"))
            if header.group(2):  # `[name](!)` is a template, `[name](tpl,...)` inherits
                lines.append(ConfLine(section, TEMPLATES, header.group(2), f"{name}:{number}"))
            continue
        key, sep, value = text.partition("=")
        if sep:
            lines.append(ConfLine(section, key.strip(), value.lstrip(">").strip(),
                                  f"{name}:{number}"))
    return lines


def sections(lines: list[ConfLine]) -> dict[str, dict[str, str]]:
    """Section -> key -> last value, templates' settings first (enough for the check)."""
    result: dict[str, dict[str, str]] = {}
    for line in lines:
        table = result.setdefault(line.section, {})
        if line.key == TEMPLATES:
            for parent in (p.strip() for p in line.value.split(",")):
                table.update({k: v for k, v in result.get(parent, {}).items()
                              if k != TEMPLATES})
        if line.key:
            table[line.key] = line.value
    return result
