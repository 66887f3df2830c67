"""Single sign-on through a site's reverse proxy: trust a user-name header, from the proxy only.

Off unless both `CALLSLA_CONSOLE_SSO_HEADER` and `CALLSLA_CONSOLE_SSO_PROXIES` are set. The
header is believed only on a connection whose peer address is one of the proxies (the proxy
must overwrite the header on every request it forwards); from anywhere else it is ignored and
the login page applies. The name must be an existing, enabled console account: the proxy says
who the person is, the console's account still says what they may do.
"""

from __future__ import annotations

import ipaddress
import logging

from aiohttp import web

from monitor.core.accounts import AccountError, check_username

log = logging.getLogger(__name__)


def sso_username(request: web.Request, *, header: str, proxies: frozenset[str]) -> str | None:
    """The user name the trusted proxy sends, or None (SSO off, another peer, no header)."""
    if not header or not proxies:
        return None
    peer = request.remote or ""
    try:
        trusted = str(ipaddress.ip_address(peer)) in proxies
    except ValueError:
        trusted = False
    given = request.headers.get(header, "").strip()
    if not trusted or not given:
        if given:
            log.warning("ignored SSO header %s from %s: not a configured proxy", header, peer)
        return None
    try:
        return check_username(given)
    except AccountError:
        log.warning("SSO header %s from proxy %s is not a user name", header, peer)
        return None
