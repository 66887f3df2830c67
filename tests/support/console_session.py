"""A console user over real HTTP: a cookie jar like a browser's, the page's CSRF token, login."""

from __future__ import annotations

import re

import aiohttp

from tests.support.console_data import PASSWORD

__all__ = ["PASSWORD", "browser", "csrf_token", "login", "post_form_js"]


def browser() -> aiohttp.ClientSession:
    """Keeps cookies for 127.0.0.1, as a browser does (aiohttp's default jar does not)."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


def csrf_token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "no CSRF token in the page"
    return found.group(1)


async def login(client: aiohttp.ClientSession, base: str, user: str,
                password: str = PASSWORD) -> tuple[int, str]:
    """Log in through the form; the status and the page it lands on."""
    async with client.get(f"{base}/login") as response:
        token = csrf_token(await response.text())
    async with client.post(f"{base}/login", data={"username": user, "password": password,
                                                   "csrf_token": token}) as response:
        return response.status, await response.text()


def post_form_js(form_id: str) -> str:
    """JS for a browser tab: submit a page's form with fetch, as the browser would (its cookies,
    its Origin); gives the status, the file name and the body's text."""
    return f"""(async () => {{
        const r = await fetch(document.getElementById('{form_id}').action,
            {{method: 'POST', body: new FormData(document.getElementById('{form_id}'))}});
        return {{status: r.status, disposition: r.headers.get('Content-Disposition'),
                 text: await r.text()}};
    }})()"""
