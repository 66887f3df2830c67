"""Console accounts and their roles (issue 12): who may do what in the browser.

The rights are here, in the shared vocabulary, so the console, the JSON API and `callsla users`
read one table of them; the password hash is opaque text (argon2's own encoding).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum


class Role(Enum):
    HELP_DESK = "helpdesk"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    ADMIN = "admin"


class Right(Enum):
    VIEW_CALLBACKS = "view_callbacks"
    CLOSE_CALLBACKS = "close_callbacks"
    PLAY_VOICEMAIL = "play_voicemail"
    MANAGE_ACCOUNTS = "manage_accounts"
    EXPORT_UNMASKED = "export_unmasked"
    EXPORT_MASKED = "export_masked"  # masked exports, reports and the export log
    VIEW_RING_BACKS = "view_ring_backs"
    RECORD_RING_BACKS = "record_ring_backs"
    VIEW_OFFICERS = "view_officers"
    SET_OFFICER_STATUS = "set_officer_status"
    VIEW_LIVE = "view_live"


# An auditor reads the records but never changes them; only an auditor takes data unmasked.
# A supervisor may take masked figures; the help desk and the admin take no exports. The help
# desk (front desk included) rings missed callers back and sets officers in or out; the live
# page of every person's state is the supervisors'; an auditor may read the ring-back list,
# never act on it.
_DESK_RIGHTS = frozenset({Right.VIEW_CALLBACKS, Right.CLOSE_CALLBACKS, Right.PLAY_VOICEMAIL,
                          Right.VIEW_RING_BACKS, Right.RECORD_RING_BACKS, Right.VIEW_OFFICERS,
                          Right.SET_OFFICER_STATUS})
RIGHTS: dict[Role, frozenset[Right]] = {
    Role.HELP_DESK: _DESK_RIGHTS,
    Role.SUPERVISOR: _DESK_RIGHTS | {Right.EXPORT_MASKED, Right.VIEW_LIVE},
    Role.AUDITOR: frozenset({Right.VIEW_CALLBACKS, Right.EXPORT_UNMASKED, Right.EXPORT_MASKED,
                             Right.VIEW_RING_BACKS}),
    Role.ADMIN: _DESK_RIGHTS | {Right.MANAGE_ACCOUNTS, Right.VIEW_LIVE},
}

_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


class AccountError(ValueError):
    """An account request that cannot be done; the message says why in one line."""


def parse_role(text: str) -> Role:
    try:
        return Role(text.strip().lower())
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise AccountError(f"role {text!r} is not one of {allowed}") from None


def check_username(text: str) -> str:
    """Lower-case letters, digits and . _ - (what a login form and a log line can carry)."""
    name = text.strip().lower()
    if not _USERNAME.fullmatch(name):
        raise AccountError(f"user name {text!r} must be 1-64 of a-z 0-9 . _ - "
                           "(starting with a letter or digit)")
    return name


@dataclass
class Account:
    username: str
    role: Role
    password_hash: str = field(repr=False)
    display_name: str = ""
    disabled: bool = False
    created_at: datetime | None = None

    def may(self, right: Right) -> bool:
        return not self.disabled and right in RIGHTS[self.role]
