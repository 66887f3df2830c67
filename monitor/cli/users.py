"""`callsla users add|list|set-role|disable|enable|passwd|token|tokens|revoke-token`: the web
console's accounts and their API tokens.

A password is read from the terminal (asked twice) or, for scripts, one line on standard input
with `--password-stdin`; never from a flag, which would leave it in the shell history.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from monitor.core.accounts import AccountError, Role, parse_role
from monitor.core.settings import add_settings_arguments, settings_from_sources
from monitor.core.terminal_text import for_terminal
from monitor.live.console import accounts
from monitor.live.console.api_tokens import create_token, revoke_token
from monitor.store import open_store


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    try:
        first = getpass.getpass("password: ")
        again = getpass.getpass("again: ")
    except EOFError:  # no terminal and nothing on standard input (a script, cron)
        raise AccountError("no password given: type it at a terminal, or use "
                           "--password-stdin") from None
    if again != first:
        raise AccountError("the two passwords differ")
    return first


def _run(args: argparse.Namespace) -> int:
    store = open_store(settings_from_sources(args).db_url)
    try:
        if args.action == "list":
            for a in store.accounts():
                state = "disabled" if a.disabled else "enabled"
                line = f"{a.username:<20} {a.role.value:<10} {state:<8} {a.display_name}"
                print(for_terminal(line))
            return 0
        if args.action == "tokens":
            for t in store.api_tokens():
                state = "revoked" if t.revoked else "live"
                print(for_terminal(f"{t.token_id}  {t.username:<20} {state:<8} {t.label}"))
            return 0
        if args.action == "token":
            token, secret = create_token(store, args.username, args.label)
            print(for_terminal(f"token {token.token_id} for {token.username} (shown once):"),
                  file=sys.stderr)
            print(secret)
            return 0
        if args.action == "revoke-token":
            revoke_token(store, args.token_id)
            print(for_terminal(f"token {args.token_id} revoked"))
            return 0
        if args.action == "add":
            done = accounts.add_account(store, args.username, parse_role(args.role),
                                        _password(args), display_name=args.name)
        elif args.action == "set-role":
            done = accounts.set_role(store, args.username, parse_role(args.role))
        elif args.action in ("disable", "enable"):
            done = accounts.set_disabled(store, args.username, args.action == "disable")
        else:
            done = accounts.set_password(store, args.username, _password(args))
        print(for_terminal(f"{done.username}: {done.role.value}"
                           f"{' (disabled)' if done.disabled else ''}"))
        return 0
    except AccountError as exc:
        print(f"callsla: {for_terminal(str(exc))}", file=sys.stderr)
        return 2
    finally:
        store.close()


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    users = commands.add_parser("users", help="the web console's accounts and roles")
    actions = users.add_subparsers(dest="action", required=True, metavar="ACTION")
    roles = ", ".join(r.value for r in Role)
    for name, what in (("add", "create an account"), ("list", "list the accounts"),
                       ("set-role", "change an account's role"),
                       ("disable", "stop an account logging in"), ("enable", "allow it again"),
                       ("passwd", "set a new password"),
                       ("token", "make an API token for an account (printed once)"),
                       ("tokens", "list the API tokens"),
                       ("revoke-token", "revoke an API token by its id")):
        action = actions.add_parser(name, help=what)
        add_settings_arguments(action)
        if name == "revoke-token":
            action.add_argument("token_id")
        elif name not in ("list", "tokens"):
            action.add_argument("username")
        if name == "token":
            action.add_argument("--label", default="", help="what the token is for")
        if name in ("add", "set-role"):
            action.add_argument("role", help=roles)
        if name in ("add", "passwd"):
            action.add_argument("--password-stdin", action="store_true",
                                help="read the password from one line of standard input")
        if name == "add":
            action.add_argument("--name", default="", help="the person's name, shown in pages")
        action.set_defaults(run=_run)
