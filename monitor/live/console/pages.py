"""Every console page's route, for the monitor's HTTP server."""

from __future__ import annotations

from aiohttp import web

from monitor.live.console import (
    account_pages,
    api,
    auditor_pages,
    auth_pages,
    callback_pages,
    live_pages,
    officer_pages,
    ring_back_pages,
)
from monitor.live.console.app import Console


def console_routes(console: Console) -> list[web.AbstractRouteDef]:
    return [*auth_pages.routes(console), *callback_pages.routes(console),
            *auditor_pages.routes(console), *account_pages.routes(console),
            *api.routes(console),
            *ring_back_pages.routes(console), *officer_pages.routes(console),
            *live_pages.routes(console)]
