"""The help desk's callbacks page (charter T-h, records a-f): open, overdue and closed
messages; play the voicemail; record the action and when the caller was told; close.

Closing goes through `monitor.ingest.callback_closing.close_callback`, the one close path
the CLI uses too; the event it records names the console user (`source` console:NAME).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from aiohttp import web

from monitor.core.accounts import Right
from monitor.core.records import Callback, CallbackStatus
from monitor.ingest.callback_closing import CallbackError, close_callback, find_callback
from monitor.live.console.app import ACCOUNT_KEY, Console
from monitor.live.console.voicemail_files import voicemail_file

Show = Literal["open", "overdue", "closed"]
CLOSED_SHOWN = 100  # the newest closed ones; the register (`callsla callbacks list`) has all


def callbacks_to_show(callbacks: list[Callback], show: Show, now: datetime) -> list[Callback]:
    """Open: not closed, oldest first; overdue: open past due; closed: newest first."""
    if show == "closed":
        closed = [c for c in callbacks if c.status is CallbackStatus.CLOSED]
        return sorted(closed, key=lambda c: c.done_at or c.contacted_at, reverse=True)[
            :CLOSED_SHOWN]
    opened = [c for c in callbacks if c.status is CallbackStatus.OPEN]
    return [c for c in opened if c.due_at < now] if show == "overdue" else opened


def routes(console: Console) -> list[web.AbstractRouteDef]:
    zone = console.settings.timezone

    async def page(request: web.Request) -> web.Response:
        console.require(request, Right.VIEW_CALLBACKS)
        account = request[ACCOUNT_KEY]
        raw = request.query.get("show", "open")
        show: Show = raw if raw in ("open", "overdue", "closed") else "open"  # type: ignore[assignment]
        now = datetime.now(UTC)
        every = console.store.callbacks(pbx=console.settings.pbx)
        counts = {s: len(callbacks_to_show(every, s, now)) for s in ("open", "overdue")}
        shown = callbacks_to_show(every, show, now)
        spool = console.settings.voicemail_spool
        return console.render(
            request, "callbacks.html", show=show, callbacks=shown, counts=counts, now=now,
            zone=zone, closed_message=request.query.get("closed") == "1",
            may_close=account.may(Right.CLOSE_CALLBACKS),
            playable={c.callback_id for c in shown
                      if account.may(Right.PLAY_VOICEMAIL) and voicemail_file(spool, c.matter)},
            today=datetime.now(zone).strftime("%Y-%m-%dT%H:%M"), error="")

    async def close(request: web.Request) -> web.StreamResponse:
        account = console.require(request, Right.CLOSE_CALLBACKS)
        form = await request.post()
        informed_text = str(form.get("informed_at", "")).strip()
        try:
            informed = (datetime.fromisoformat(informed_text).replace(tzinfo=zone)
                        if informed_text else None)
        except ValueError:
            raise web.HTTPBadRequest(text=f"not a date and time: {informed_text!r}") from None
        try:
            close_callback(console.store, request.match_info["callback_id"],
                           action_taken=str(form.get("action_taken", "")),
                           caller_informed_at=informed, pbx=console.settings.pbx,
                           source=f"console:{account.username}")
        except CallbackError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        console.callbacks_changed()
        raise web.HTTPSeeOther("/callbacks?closed=1")

    async def voicemail(request: web.Request) -> web.StreamResponse:
        console.require(request, Right.PLAY_VOICEMAIL)
        try:
            callback = find_callback(console.store, request.match_info["callback_id"],
                                     pbx=console.settings.pbx)
        except CallbackError:
            raise web.HTTPNotFound() from None
        path = voicemail_file(console.settings.voicemail_spool, callback.matter)
        if path is None:
            raise web.HTTPNotFound(text="this message is not in the configured voicemail spool")
        return web.FileResponse(path, headers={"Content-Type": "audio/wav"})

    return [web.get("/callbacks", page),
            web.post("/callbacks/{callback_id}/close", close),
            web.get("/callbacks/{callback_id}/voicemail", voicemail)]
