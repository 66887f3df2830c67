"""Callers waiting for one officer, in arrival order; only the first may take the officer."""

from __future__ import annotations

from dataclasses import dataclass, field

# Asterisk device states in which the officer's phone cannot take another call.
BUSY_DEVICE_STATES = frozenset({"INUSE", "BUSY", "RINGING", "RINGINUSE", "ONHOLD"})
# ... and in which it cannot be reached at all (unregistered, unplugged): ringing it would only
# send every waiting caller back to the front desk in turn, so the caller may leave a message.
UNREACHABLE_DEVICE_STATES = frozenset({"UNAVAILABLE", "INVALID"})


@dataclass
class OfficerLine:
    """One officer's waiting line; `engaged_by` is the caller this server is putting through."""

    extension: str
    waiting: list[str] = field(default_factory=list)
    engaged_by: str | None = None

    def join(self, caller: str) -> int:
        if caller not in self.waiting:
            self.waiting.append(caller)
        return self.position(caller)

    def position(self, caller: str) -> int:
        """1 = next to be put through; 0 = not waiting."""
        return self.waiting.index(caller) + 1 if caller in self.waiting else 0

    def may_take(self, caller: str, device_state: str) -> bool:
        """The first caller takes a free officer; the rest keep their places."""
        return (self.engaged_by is None and bool(self.waiting) and self.waiting[0] == caller
                and device_state.upper() not in BUSY_DEVICE_STATES)

    def take(self, caller: str) -> None:
        self.waiting.remove(caller)
        self.engaged_by = caller

    def leave(self, caller: str) -> None:
        """The caller is gone (hung up, chose a message, was put through and finished)."""
        if caller in self.waiting:
            self.waiting.remove(caller)
        if self.engaged_by == caller:
            self.engaged_by = None


class OfficerLines:
    """Every officer's line in this one server process."""

    def __init__(self) -> None:
        self._lines: dict[str, OfficerLine] = {}

    def __getitem__(self, extension: str) -> OfficerLine:
        return self._lines.setdefault(extension, OfficerLine(extension))

    def waiting_total(self) -> int:
        return sum(len(line.waiting) for line in self._lines.values())
