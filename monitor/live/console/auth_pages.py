"""Logging in and out. The login form carries its own CSRF token (a cookie it must match), so
a cross-site page cannot log a browser into an account of its choosing either."""

from __future__ import annotations

import asyncio
import secrets

from aiohttp import web

from monitor.live.console.accounts import find_login, password_matches, rehash_if_old
from monitor.live.console.app import SESSION_KEY, Console
from monitor.live.console.sessions import COOKIE_NAME

LOGIN_CSRF_COOKIE = "callsla_login_csrf"


def routes(console: Console) -> list[web.AbstractRouteDef]:
    async def login_page(request: web.Request) -> web.Response:
        return _login_form(console, request, failed=False)

    async def login(request: web.Request) -> web.StreamResponse:
        form = await request.post()
        username, password = str(form.get("username", "")), str(form.get("password", ""))
        token = str(form.get("csrf_token", ""))
        if not token or not secrets.compare_digest(
                token, request.cookies.get(LOGIN_CSRF_COOKIE, "")):
            raise web.HTTPForbidden(text="missing or wrong CSRF token")
        address = request.remote or "-"
        delay = console.login_limit.delay_for(username, address)
        if delay:
            await asyncio.sleep(delay)
        account = find_login(console.store, username)
        if not await asyncio.to_thread(password_matches, account, password) or account is None:
            console.login_limit.failed(username, address)
            return _login_form(console, request, failed=True, status=401)
        rehash_if_old(console.store, account, password)
        session = console.sessions.start(account.username)
        response = web.HTTPSeeOther("/callbacks")
        console.set_cookie(response, COOKIE_NAME, session.session_id)
        response.del_cookie(LOGIN_CSRF_COOKIE, path="/")
        raise response

    async def logout(request: web.Request) -> web.StreamResponse:
        session = request[SESSION_KEY]
        console.sessions.end(session.session_id)
        response = web.HTTPSeeOther("/login")
        response.del_cookie(COOKIE_NAME, path="/")
        raise response

    async def home(_request: web.Request) -> web.StreamResponse:
        raise web.HTTPSeeOther("/callbacks")

    return [web.get("/login", login_page), web.post("/login", login),
            web.post("/logout", logout), web.get("/", home)]


def _login_form(console: Console, request: web.Request, *, failed: bool,
                status: int = 200) -> web.Response:
    # One token per browser until it logs in: a second tab (or the browser's own favicon
    # request, redirected here) must not invalidate the form already shown.
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = console.render(request, "login.html", status=status, failed=failed,
                              csrf_token=token)
    console.set_cookie(response, LOGIN_CSRF_COOKIE, token)
    return response
