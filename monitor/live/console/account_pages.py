"""The admin's accounts page: list, create, disable or enable, set a password, change a role,
and make or revoke API tokens, through the functions `callsla users` uses.

A changed role, password or disabled account ends that user's sessions at once. An admin
cannot disable or demote their own account (a console with no admin left is locked).
"""

from __future__ import annotations

import logging

from aiohttp import web

from monitor.core.accounts import Account, AccountError, Right, Role, parse_role
from monitor.live.console import accounts
from monitor.live.console.api_tokens import create_token, revoke_token
from monitor.live.console.app import Console

log = logging.getLogger(__name__)


def _log(admin: Account, what: str) -> None:
    log.info("admin %s: %s", admin.username, what)


def routes(console: Console) -> list[web.AbstractRouteDef]:

    def page(request: web.Request, *, error: str = "", notice: str = "", new_token: str = "",
             status: int = 200) -> web.Response:
        store = console.store
        return console.render(request, "accounts.html", status=status,
                              accounts=store.accounts(), tokens=store.api_tokens(),
                              roles=list(Role), error=error, notice=notice, new_token=new_token)

    async def show(request: web.Request) -> web.Response:
        console.require(request, Right.MANAGE_ACCOUNTS)
        return page(request, notice=request.query.get("done", ""))

    async def fields(request: web.Request) -> dict[str, str]:
        return {k: str(v) for k, v in (await request.post()).items()}

    def not_yourself(admin: Account, username: str) -> None:
        if username.strip().lower() == admin.username:
            raise AccountError("you cannot disable or change the role of your own account")

    def done(request: web.Request, what: str) -> web.StreamResponse:
        account = request.match_info.get("username", "")
        raise web.HTTPSeeOther(f"/accounts?done={what}:{account}")

    async def create(request: web.Request) -> web.StreamResponse:
        admin = console.require(request, Right.MANAGE_ACCOUNTS)
        form = await fields(request)
        try:
            made = accounts.add_account(console.store, form.get("username", ""),
                                        parse_role(form.get("role", "")),
                                        form.get("password", ""),
                                        display_name=form.get("display_name", ""))
        except AccountError as exc:
            return page(request, error=str(exc), status=400)
        _log(admin, f"created account {made.username} ({made.role.value})")
        raise web.HTTPSeeOther(f"/accounts?done=created:{made.username}")

    async def change(request: web.Request) -> web.StreamResponse:
        admin = console.require(request, Right.MANAGE_ACCOUNTS)
        username = request.match_info["username"]
        action = request.match_info["action"]
        form = await fields(request)
        try:
            if action == "role":
                not_yourself(admin, username)
                changed = accounts.set_role(console.store, username,
                                            parse_role(form.get("role", "")))
            elif action in ("disable", "enable"):
                not_yourself(admin, username)
                changed = accounts.set_disabled(console.store, username, action == "disable")
            elif action == "password":
                changed = accounts.set_password(console.store, username,
                                                form.get("password", ""))
            elif action == "token":
                token, secret = create_token(console.store, username, form.get("label", ""))
                _log(admin, f"made API token {token.token_id} for {username}")
                return page(request, new_token=secret,
                            notice=f"token:{token.token_id}:{token.username}")
            else:
                raise web.HTTPNotFound()
        except AccountError as exc:
            return page(request, error=str(exc), status=400)
        console.sessions.end_all_of(changed.username)
        _log(admin, f"{action} {changed.username}")
        return done(request, action)

    async def revoke(request: web.Request) -> web.StreamResponse:
        admin = console.require(request, Right.MANAGE_ACCOUNTS)
        token_id = request.match_info["token_id"]
        try:
            revoke_token(console.store, token_id)
        except AccountError as exc:
            return page(request, error=str(exc), status=400)
        _log(admin, f"revoked API token {token_id}")
        raise web.HTTPSeeOther(f"/accounts?done=revoked:{token_id}")

    return [web.get("/accounts", show), web.post("/accounts", create),
            web.post("/accounts/{username}/{action}", change),
            web.post("/api-tokens/{token_id}/revoke", revoke)]
