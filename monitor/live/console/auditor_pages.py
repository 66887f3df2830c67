"""The auditor's page: the quarterly report and the exports of a chosen range, masked unless an
auditor states a reason, and the export log with its chain's verification.

Every download is made by `downloads.Downloads` (the CLI's code path) and logged, before it is
served, with `console:NAME` as `exported_by`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta

from aiohttp import web

from monitor.core.accounts import Account, Right
from monitor.live.console.app import Console
from monitor.live.console.downloads import (
    CONSOLE_REPORT_FORMATS,
    DownloadRefusedError,
    Downloads,
    ExportAsk,
    ReportAsk,
    parse_export_ask,
    parse_report_ask,
)
from monitor.live.console.export_log_view import export_log_view
from monitor.reports.errors import ReportError
from monitor.reports.formats import EXPORT_FORMATS


def _last_quarter(today: date) -> str:
    first_of_quarter = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    previous = first_of_quarter - timedelta(days=1)
    return f"{previous.year}Q{(previous.month - 1) // 3 + 1}"


def _downloads(console: Console) -> Downloads:
    if console.downloads is None:
        raise web.HTTPServiceUnavailable(text="exports are not set up in this console")
    return console.downloads


def routes(console: Console) -> list[web.AbstractRouteDef]:
    zone = console.settings.timezone

    def page(request: web.Request, account: Account, *, error: str = "",
             form: dict[str, str] | None = None, status: int = 200) -> web.Response:
        entries, check = export_log_view(console.store)
        today = datetime.now(zone).date()
        form = form or {}
        return console.render(
            request, "auditor.html", status=status, entries=entries, check=check, zone=zone,
            error=error, formats=EXPORT_FORMATS, report_formats=CONSOLE_REPORT_FORMATS,
            may_unmask=account.may(Right.EXPORT_UNMASKED),
            date_from=form.get("from", today.replace(day=1).isoformat()),
            date_to=form.get("to", today.isoformat()), quarter=_last_quarter(today))

    async def show(request: web.Request) -> web.Response:
        return page(request, console.require(request, Right.EXPORT_MASKED))

    def download(parse: Callable[[dict[str, str], Account], ExportAsk | ReportAsk]
                 ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handler(request: web.Request) -> web.StreamResponse:
            account = console.require(request, Right.EXPORT_MASKED)
            fields = {k: str(v) for k, v in (await request.post()).items()}
            try:
                return await _downloads(console).serve(request, parse(fields, account),
                                                       f"console:{account.username}")
            except DownloadRefusedError as exc:
                raise web.HTTPForbidden(text=str(exc)) from None
            except ReportError as exc:
                return page(request, account, error=str(exc), form=fields, status=400)
        return handler

    return [web.get("/auditor", show),
            web.post("/auditor/export", download(parse_export_ask)),
            web.post("/auditor/report", download(parse_report_ask))]
