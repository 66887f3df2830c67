"""The console on the monitor's aiohttp server: who is logged in, what they may do, which page.

Every request but /metrics and /healthz passes `guard`: the login page and its POST are open,
the wallboard is open or needs the kiosk token, everything else needs a live session, and
every POST needs the session's CSRF token (a cross-site form has none) and a same-site Origin.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from monitor.core.accounts import Account, Right
from monitor.core.records import CallLeg
from monitor.core.settings import Endpoint
from monitor.live.console.api_tokens import account_for_token, bearer_secret
from monitor.live.console.login_limit import LoginLimit
from monitor.live.console.sessions import COOKIE_NAME, Session, Sessions
from monitor.live.console.sso import sso_username
from monitor.live.console.wording import LANGUAGES, words_for
from monitor.store import Store

if TYPE_CHECKING:
    from monitor.live.console.downloads import Downloads

LANG_COOKIE = "callsla_lang"
KIOSK_COOKIE = "callsla_kiosk"
OPEN_PATHS = frozenset({"/login"})
WALLBOARD_PATHS = frozenset({"/wallboard", "/wallboard.json"})
API_PREFIX = "/api/"
API_OPEN_PATHS = frozenset({"/api/openapi.json"})
SESSION_KEY = web.RequestKey("session", Session)  # set by the guard for the pages
ACCOUNT_KEY = web.RequestKey("account", Account)


@dataclass(frozen=True, kw_only=True)
class ConsoleSettings:
    pbx: str
    timezone: ZoneInfo
    idle_seconds: float = 15 * 60
    secure_cookies: bool = False  # set when the console is reached over HTTPS
    wallboard_token: str = ""  # empty: the wallboard is public
    voicemail_spool: Path | None = None
    login_slow_seconds: float = 3.0
    sso_header: str = ""  # with sso_proxies: trust this user-name header from those addresses
    sso_proxies: frozenset[str] = frozenset()
    ami: Endpoint | None = None  # the live page asks the PBX (states): the monitor's user
    # The officers page reads and sets AstDB as `callsla officer` does: that part's user
    # (`write = system`; CALLSLA_OFFICER_AMI_URL, else CALLSLA_AMI_URL).
    officer_ami: Endpoint | None = None
    directory: Path | None = None  # the officers; None: $CALLSLA_DIRECTORY or the package's
    answer_within_seconds: float = 10.0  # the charter's, for today's figures per person


# The pages in the header's navigation, each shown to the accounts with its right.
NAVIGATION: list[tuple[str, str, Right]] = [
    ("/callbacks", "callbacks", Right.VIEW_CALLBACKS),
    ("/ringbacks", "ring_backs", Right.VIEW_RING_BACKS),
    ("/officers", "officers", Right.VIEW_OFFICERS),
    ("/live", "live", Right.VIEW_LIVE),
    ("/auditor", "auditor", Right.EXPORT_MASKED),
    ("/accounts", "accounts", Right.MANAGE_ACCOUNTS),
]


class Console:
    """Owns the sessions, the login limit and the templates; pages get it as `console`."""

    def __init__(self, settings: ConsoleSettings, *, store: Callable[[], Store | None],
                 callbacks_changed: Callable[[], None] = lambda: None,
                 downloads: Downloads | None = None,
                 waiting: Callable[[], list[CallLeg]] = list) -> None:
        self.settings = settings
        self._store = store
        self.callbacks_changed = callbacks_changed
        self.downloads = downloads  # None: no exports from this console (503)
        self.waiting = waiting  # the callers waiting now, from the monitor's call state
        self.sessions = Sessions(idle_seconds=settings.idle_seconds)
        self.login_limit = LoginLimit(slow_seconds=settings.login_slow_seconds)
        self._templates = jinja2.Environment(
            loader=jinja2.PackageLoader("monitor.live.console", "templates"),
            autoescape=True, undefined=jinja2.StrictUndefined)
        self._templates.globals["Right"] = Right  # the navigation shows what a role may do

    @property
    def store(self) -> Store:
        store = self._store()
        if store is None:
            raise web.HTTPServiceUnavailable(text="the monitor's store is not open yet")
        return store

    def language(self, request: web.Request) -> str:
        asked = request.query.get("lang") or request.cookies.get(LANG_COOKIE, "")
        return asked if asked in LANGUAGES else LANGUAGES[0]

    def render(self, request: web.Request, template: str, *, status: int = 200,
               **values: Any) -> web.Response:
        language = self.language(request)
        session = request.get(SESSION_KEY)
        account = request.get(ACCOUNT_KEY)
        navigation = [(path, key) for path, key, right in NAVIGATION
                      if account is not None and account.may(right)]
        page = self._templates.get_template(template).render(
            w=words_for(language), lang=language, session=session, account=account,
            path=request.path, navigation=navigation, **values)
        response = web.Response(text=page, content_type="text/html", status=status)
        if request.query.get("lang") == language:
            self.set_cookie(response, LANG_COOKIE, language, max_age=365 * 86400)
        return response

    def set_cookie(self, response: web.StreamResponse, name: str, value: str, *,
                   max_age: int | None = None) -> None:
        response.set_cookie(name, value, httponly=True, samesite="Strict", path="/",
                            secure=self.settings.secure_cookies, max_age=max_age)

    def require(self, request: web.Request, right: Right) -> Account:
        """The logged-in account if it has `right`; else 403 with a page that says so."""
        account = request[ACCOUNT_KEY]
        if not account.may(right):
            raise web.HTTPForbidden(text=words_for(self.language(request))["not_allowed"])
        return account

    @web.middleware
    async def guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in WALLBOARD_PATHS and self._wallboard_allowed(request):
            response = await handler(request)
            if request.query.get("kiosk"):
                self.set_cookie(response, KIOSK_COOKIE, request.query["kiosk"])
            return response
        if request.path.startswith(API_PREFIX):
            return await self._api(request, handler)
        if request.method == "POST" and not _same_site(request):
            raise web.HTTPForbidden(text="cross-site request refused")
        if request.path in OPEN_PATHS:
            return await handler(request)
        session = self.sessions.get(request.cookies.get(COOKIE_NAME))
        signed_on = self._single_sign_on(request, session)
        session = signed_on or session
        account = self.store.get_account(session.username) if session else None
        if session is None or account is None or account.disabled:
            if request.method != "GET":
                raise web.HTTPForbidden(text="log in first")
            raise web.HTTPSeeOther("/login")
        if request.method == "POST":
            form = await request.post()
            token = form.get("csrf_token")
            if not isinstance(token, str) or not session.csrf_matches(token):
                raise web.HTTPForbidden(text="missing or wrong CSRF token")
        request[SESSION_KEY] = session
        request[ACCOUNT_KEY] = account
        response = await handler(request)
        response.headers.setdefault("Cache-Control", "no-store")
        if signed_on is not None:
            self.set_cookie(response, COOKIE_NAME, signed_on.session_id)
        return response

    def _single_sign_on(self, request: web.Request, session: Session | None) -> Session | None:
        """A new session for the user the trusted proxy names (on a GET: a POST must carry
        the CSRF token of a page it was shown), when it is not the session's user already."""
        name = sso_username(request, header=self.settings.sso_header,
                            proxies=self.settings.sso_proxies)
        if name is None or request.method != "GET":
            return None
        account = self.store.get_account(name)
        if account is None or account.disabled:
            return None  # the login page, and no session kept for a name nobody has
        if session is not None:
            if session.username == name:
                return None
            self.sessions.end(session.session_id)
        return self.sessions.start(name)

    async def _api(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """The JSON API takes a bearer token, never a session cookie, so CSRF cannot reach it
        (a cross-site page cannot set Authorization without a CORS preflight nobody answers);
        the token acts with its account's rights."""
        if request.path in API_OPEN_PATHS:
            return await handler(request)
        secret = bearer_secret(request.headers.get(hdrs.AUTHORIZATION))
        account = account_for_token(self.store, secret) if secret else None
        if account is None:
            raise web.HTTPUnauthorized(
                text='{"error": "an API token is needed: Authorization: Bearer callsla_..."}',
                content_type="application/json", headers={hdrs.WWW_AUTHENTICATE: "Bearer"})
        request[ACCOUNT_KEY] = account
        response = await handler(request)
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    def _wallboard_allowed(self, request: web.Request) -> bool:
        token = self.settings.wallboard_token
        if not token:
            return True
        given = request.query.get("kiosk") or request.cookies.get(KIOSK_COOKIE, "")
        if hmac.compare_digest(given.encode(), token.encode()):
            return True
        session = self.sessions.get(request.cookies.get(COOKIE_NAME))
        return session is not None


def _same_site(request: web.Request) -> bool:
    """A browser sends Origin on a cross-site POST; it must name this host. Scripts and tests
    that send no Origin rely on the CSRF token alone."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return origin.split("://", 1)[-1].rstrip("/") == request.host
