"""The directory of officers (charter T-c, T-d): one file read by the scripts and the monitor."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from asterisk_conf import OFFICERS_FILE

DEFAULT_DIRECTORY = OFFICERS_FILE  # package data: found wherever callsla is installed
LANGUAGES = ("ms", "en")
_EXTENSION = re.compile(r"^[0-9]{2,8}$")
_DEPARTMENT = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class DirectoryError(ValueError):
    """The directory file is unreadable or an entry is malformed; the message says which."""


class OfficerStatus(StrEnum):
    IN = "in"
    OUT = "out"
    LEAVE = "leave"

    @property
    def available(self) -> bool:
        return self is OfficerStatus.IN


@dataclass(frozen=True)
class Officer:
    """One officer as the front desk announces and rings them."""

    extension: str
    name: str
    department: str  # short id; also the `department` label of metrics
    mailbox: str
    status: OfficerStatus
    language: str  # "ms" | "en": what the officer works in


@dataclass(frozen=True)
class Directory:
    """Officers by extension, and each department's spoken name per language."""

    officers: dict[str, Officer]
    departments: dict[str, dict[str, str]]

    def officer(self, extension: str) -> Officer | None:
        return self.officers.get(extension)

    def department_name(self, department: str, language: str) -> str:
        names = self.departments.get(department, {})
        return names.get(language) or names.get("en") or department

    @property
    def department_ids(self) -> list[str]:
        """The bounded set of `department` label values."""
        return sorted(self.departments)


def directory_path(path: Path | None = None) -> Path:
    """The file to read: the argument, else $CALLSLA_DIRECTORY, else the packaged sample."""
    if path is not None:
        return path
    env = os.environ.get("CALLSLA_DIRECTORY")
    return Path(env) if env else DEFAULT_DIRECTORY


def load_directory(path: Path | None = None) -> Directory:
    """Read and check the directory file (TOML; see asterisk_conf/officers.toml)."""
    source = directory_path(path)
    try:
        doc = tomllib.loads(source.read_text("utf-8"))
    except OSError as exc:
        raise DirectoryError(f"cannot read directory {source}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise DirectoryError(f"{source}: not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise DirectoryError(f"{source}: not valid TOML: {exc}") from exc
    departments = _departments(source, doc.get("departments", {}))
    entries = doc.get("officer", [])
    if not isinstance(entries, list):
        raise DirectoryError(f"{source}: officers must be [[officer]] tables")
    officers: dict[str, Officer] = {}
    for index, entry in enumerate(entries, start=1):
        officer = _officer(f"{source}: officer #{index}", entry, departments)
        if officer.extension in officers:
            raise DirectoryError(f"{source}: extension {officer.extension} listed twice")
        officers[officer.extension] = officer
    return Directory(officers=officers, departments=departments)


def _departments(source: Path, raw: object) -> dict[str, dict[str, str]]:
    if not isinstance(raw, dict):
        raise DirectoryError(f"{source}: [departments] must be a table")
    result: dict[str, dict[str, str]] = {}
    for dept, names in raw.items():
        if not _DEPARTMENT.match(dept) or not isinstance(names, dict):
            raise DirectoryError(f"{source}: department {dept!r} must be a short lowercase id "
                                 "with a table of names per language")
        result[dept] = {lang: str(names[lang]) for lang in LANGUAGES if lang in names}
    return result


def _officer(where: str, entry: object, departments: dict[str, dict[str, str]]) -> Officer:
    if not isinstance(entry, dict):
        raise DirectoryError(f"{where}: must be a table")
    try:
        extension = str(entry["extension"])
        name = str(entry["name"]).strip()
        department = str(entry["department"])
        mailbox = str(entry.get("mailbox", extension))
        status = OfficerStatus(str(entry.get("status", "in")))
        language = str(entry.get("language", "ms"))
    except KeyError as exc:
        raise DirectoryError(f"{where}: missing {exc.args[0]!r}") from exc
    except ValueError as exc:
        raise DirectoryError(f"{where}: status must be one of in, out, leave") from exc
    if not _EXTENSION.match(extension) or not _EXTENSION.match(mailbox):
        raise DirectoryError(f"{where}: extension and mailbox must be 2-8 digits")
    if department not in departments:
        raise DirectoryError(f"{where}: department {department!r} not in [departments]")
    if language not in LANGUAGES:
        raise DirectoryError(f"{where}: language must be one of {', '.join(LANGUAGES)}")
    if not name or any(c in name for c in "\r\n\"|;"):
        raise DirectoryError(f"{where}: name must be one line without quotes, | or ;")
    return Officer(extension=extension, name=name, department=department, mailbox=mailbox,
                   status=status, language=language)


# An officer's live status overrides the file's: AstDB family/key, written by
# `callsla officer set-status` (AMI DBPut) and read by the call flows on every call.
ASTDB_FAMILY = "callsla"


def status_key(extension: str) -> str:
    """The AstDB key (in ASTDB_FAMILY) of an officer's live in/out/leave status."""
    return f"officer/{extension}/status"
