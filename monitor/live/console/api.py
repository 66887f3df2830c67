"""The JSON API (issue 12) for a site's helpdesk system: callbacks, the export log, exports.

Each call takes `Authorization: Bearer <token>` (checked by `Console.guard`) and acts with the
token's account's rights, through the same functions as the pages: `close_callback` for a
close, `Downloads` for an export (logged as `api:NAME`). Described in
/api/openapi.json (monitor/live/console/openapi.json, written by hand).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from aiohttp import web

from monitor.core.accounts import Account, Right
from monitor.core.records import Callback
from monitor.ingest.callback_closing import CallbackError, close_callback
from monitor.live.console.app import ACCOUNT_KEY, Console
from monitor.live.console.callback_pages import Show, callbacks_to_show
from monitor.live.console.downloads import DownloadRefusedError, parse_export_ask
from monitor.live.console.export_log_view import export_log_view
from monitor.reports.errors import ReportError
from monitor.reports.export_log import ExportLogEntry


def _error(status: type[web.HTTPError], message: str) -> web.HTTPError:
    return status(text=json.dumps({"error": message}), content_type="application/json")


def _require(request: web.Request, right: Right) -> Account:
    account = request[ACCOUNT_KEY]
    if not account.may(right):
        raise _error(web.HTTPForbidden, f"the {account.role.value} role may not do this")
    return account


def _time(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def callback_json(c: Callback) -> dict[str, Any]:
    return {"callback_id": c.callback_id, "status": c.status.value, "caller_name": c.caller_name,
            "caller_number": c.caller_number, "contacted_at": _time(c.contacted_at),
            "matter": c.matter, "officer": c.officer, "department": c.department,
            "due_at": _time(c.due_at), "action_taken": c.action_taken,
            "done_at": _time(c.done_at), "caller_informed_at": _time(c.caller_informed_at)}


def log_entry_json(e: ExportLogEntry) -> dict[str, Any]:
    return {"seq": e.seq, "export_id": e.export_id, "exported_at": _time(e.exported_at),
            "exported_by": e.exported_by, "kind": e.kind, "first_day": e.first_day.isoformat(),
            "last_day": e.last_day.isoformat(), "format": e.format, "row_count": e.row_count,
            "masked": e.masked, "reason": e.reason, "entry_hash": e.entry_hash}


async def _json_body(request: web.Request) -> dict[str, str]:
    try:
        body = await request.json()
    except ValueError:
        raise _error(web.HTTPBadRequest, "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise _error(web.HTTPBadRequest, "the body must be a JSON object")
    return {str(k): ("1" if v is True else "" if v in (False, None) else str(v))
            for k, v in body.items()}


def routes(console: Console) -> list[web.AbstractRouteDef]:
    zone = console.settings.timezone

    async def list_callbacks(request: web.Request) -> web.Response:
        _require(request, Right.VIEW_CALLBACKS)
        raw = request.query.get("show", "open")
        if raw not in ("open", "overdue", "closed"):
            raise _error(web.HTTPBadRequest, "show must be open, overdue or closed")
        show: Show = raw  # type: ignore[assignment]
        every = console.store.callbacks(pbx=console.settings.pbx)
        shown = callbacks_to_show(every, show, datetime.now(UTC))
        return web.json_response({"callbacks": [callback_json(c) for c in shown]})

    async def close(request: web.Request) -> web.Response:
        account = _require(request, Right.CLOSE_CALLBACKS)
        body = await _json_body(request)
        informed_text = body.get("caller_informed_at", "").strip()
        try:
            informed = datetime.fromisoformat(informed_text) if informed_text else None
        except ValueError:
            raise _error(web.HTTPBadRequest, f"not a date and time: {informed_text!r}") from None
        if informed is not None and informed.tzinfo is None:
            informed = informed.replace(tzinfo=zone)
        try:
            closed = close_callback(console.store, request.match_info["callback_id"],
                                    action_taken=body.get("action_taken", ""),
                                    caller_informed_at=informed, pbx=console.settings.pbx,
                                    source=f"api:{account.username}")
        except CallbackError as exc:
            raise _error(web.HTTPBadRequest, str(exc)) from None
        console.callbacks_changed()
        return web.json_response(callback_json(closed))

    async def export_log(request: web.Request) -> web.Response:
        _require(request, Right.EXPORT_MASKED)
        entries, check = export_log_view(console.store)
        return web.json_response({
            "chain": {"intact": not check.problems, "problems": check.problems,
                      "chained": check.chained, "unchained": check.unchained,
                      "head_seq": check.head.seq if check.head else None,
                      "head_hash": check.head.entry_hash if check.head else None},
            "entries": [log_entry_json(e) for e in entries]})

    async def export(request: web.Request) -> web.StreamResponse:
        account = _require(request, Right.EXPORT_MASKED)
        if console.downloads is None:
            raise _error(web.HTTPServiceUnavailable, "exports are not set up here")
        try:
            ask = parse_export_ask(await _json_body(request), account)
            return await console.downloads.serve(request, ask, f"api:{account.username}")
        except DownloadRefusedError as exc:
            raise _error(web.HTTPForbidden, str(exc)) from None
        except ReportError as exc:
            raise _error(web.HTTPBadRequest, str(exc)) from None

    async def openapi(_request: web.Request) -> web.Response:
        text = resources.files("monitor.live.console").joinpath("openapi.json").read_text()
        return web.Response(text=text, content_type="application/json")

    return [web.get("/api/callbacks", list_callbacks),
            web.post("/api/callbacks/{callback_id}/close", close),
            web.get("/api/exports", export_log),
            web.post("/api/exports", export),
            web.get("/api/openapi.json", openapi)]
