"""Managing console accounts: one set of functions for `callsla users` and the admin's page.

Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106's low-memory profile);
a hash made with older parameters is re-made at the next good login.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from monitor.core.accounts import Account, AccountError, Role, check_username
from monitor.store import Store

MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()
# Verified against when the user name is unknown, so a wrong name takes as long as a wrong
# password and the login page does not tell which names exist.
_UNKNOWN_HASH = _hasher.hash("not a real account's password")


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def add_account(store: Store, username: str, role: Role, password: str, *,
                display_name: str = "") -> Account:
    name = check_username(username)
    if store.get_account(name) is not None:
        raise AccountError(f"user {name!r} exists already (set-role, passwd or disable it)")
    account = Account(username=name, role=role, password_hash=hash_password(password),
                      display_name=display_name.strip())
    store.save_account(account)
    return account


def _existing(store: Store, username: str) -> Account:
    account = store.get_account(check_username(username))
    if account is None:
        raise AccountError(f"no user {username!r}")
    return account


def set_role(store: Store, username: str, role: Role) -> Account:
    account = _existing(store, username)
    account.role = role
    store.save_account(account)
    return account


def set_disabled(store: Store, username: str, disabled: bool = True) -> Account:
    account = _existing(store, username)
    account.disabled = disabled
    store.save_account(account)
    return account


def set_password(store: Store, username: str, password: str) -> Account:
    account = _existing(store, username)
    account.password_hash = hash_password(password)
    store.save_account(account)
    return account


def find_login(store: Store, username: str) -> Account | None:
    """The account a login form names, or None for a malformed or unknown name."""
    try:
        return store.get_account(check_username(username))
    except AccountError:
        return None


def password_matches(account: Account | None, password: str) -> bool:
    """True if `password` is this enabled account's. Takes argon2's time even for no account
    (run it in a worker thread: about 0.1 s of CPU)."""
    try:
        _hasher.verify(account.password_hash if account else _UNKNOWN_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return account is not None and not account.disabled


def rehash_if_old(store: Store, account: Account, password: str) -> None:
    """After a good login: re-make a hash made with weaker parameters than today's."""
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = _hasher.hash(password)
        store.save_account(account)


def authenticate(store: Store, username: str, password: str) -> Account | None:
    """The account if the name and password match and it is enabled; else None."""
    account = find_login(store, username)
    if not password_matches(account, password) or account is None:
        return None
    rehash_if_old(store, account, password)
    return account
