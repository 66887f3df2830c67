"""A console's store for tests: one account per role and a few of today's answered calls, so
the auditor has something to export."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.core.accounts import Account, Role
from monitor.core.records import CallLeg, LegKind, Outcome
from monitor.live.console.accounts import hash_password
from monitor.store import Store

PASSWORD = "correct horse battery"
ACCOUNTS = {"siti": Role.HELP_DESK, "mira": Role.SUPERVISOR, "aziz": Role.AUDITOR,
            "root": Role.ADMIN}
CALLER_NUMBER = "0123456789"
CALLER_NAME = "Puan Aminah binti Yusof"


def seed_console_store(store: Store, *, pbx: str, calls: int = 3) -> None:
    hashed = hash_password(PASSWORD)  # once: argon2 takes 0.1 s of CPU a hash
    for name, role in ACCOUNTS.items():
        store.save_account(Account(username=name, role=role, password_hash=hashed,
                                   display_name=name.title()))
    start = datetime.now(UTC) - timedelta(minutes=30)
    store.save_legs([CallLeg(
        pbx=pbx, call_id=f"call-{n}", leg_id=f"call-{n}-fd", kind=LegKind.FRONT_DESK,
        offered_at=start + timedelta(minutes=n), caller_number=CALLER_NUMBER,
        caller_name=CALLER_NAME, queue="frontdesk",
        answered_at=start + timedelta(minutes=n, seconds=4 + n),
        ended_at=start + timedelta(minutes=n, seconds=60), answered_by="r1",
        outcome=Outcome.ANSWERED) for n in range(calls)])
