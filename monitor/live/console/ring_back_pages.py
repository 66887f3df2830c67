"""The help desk's ring-back list (service recovery): today's missed customer calls, one line
per caller, rung back and marked with the outcome (`monitor.core.ring_backs` has the rules).

Each form carries a fresh ring-back id, so a form sent twice is recorded once.
"""

from __future__ import annotations

import logging
import re
import uuid
from datetime import UTC, datetime

from aiohttp import web

from monitor.core.accounts import Right
from monitor.core.ring_backs import RingBack, RingBackLine, RingBackOutcome, ring_back_lines
from monitor.live.console.app import Console
from monitor.live.console.today import today_window

log = logging.getLogger(__name__)

MAX_NOTE = 500
_ID = re.compile(r"[0-9a-f]{32}")


def routes(console: Console) -> list[web.AbstractRouteDef]:
    pbx = console.settings.pbx

    def lines_today(now: datetime) -> tuple[list[RingBackLine], int]:
        start, end = today_window(now, console.settings.timezone)
        return ring_back_lines(console.store.legs_between(start, end, pbx=pbx),
                               console.store.ring_backs_between(start, end, pbx=pbx))

    async def page(request: web.Request) -> web.Response:
        account = console.require(request, Right.VIEW_RING_BACKS)
        lines, withheld = lines_today(datetime.now(UTC))
        return console.render(
            request, "ringbacks.html", lines=lines, withheld=withheld,
            zone=console.settings.timezone, outcomes=list(RingBackOutcome),
            may_record=account.may(Right.RECORD_RING_BACKS),
            form_ids={line.caller_number: uuid.uuid4().hex for line in lines},
            saved=request.query.get("saved") == "1")

    async def record(request: web.Request) -> web.StreamResponse:
        account = console.require(request, Right.RECORD_RING_BACKS)
        form = await request.post()
        number = str(form.get("caller_number", "")).strip()
        ring_back_id = str(form.get("ring_back_id", ""))
        note = str(form.get("note", "")).strip()
        try:
            outcome = RingBackOutcome(str(form.get("outcome", "")))
        except ValueError:
            allowed = ", ".join(o.value for o in RingBackOutcome)
            raise web.HTTPBadRequest(text=f"outcome must be one of {allowed}") from None
        if not _ID.fullmatch(ring_back_id):
            raise web.HTTPBadRequest(text="the form has no ring-back id: reload the page")
        if len(note) > MAX_NOTE:
            raise web.HTTPBadRequest(text=f"the note is over {MAX_NOTE} characters")
        now = datetime.now(UTC)
        lines, _ = lines_today(now)
        if number not in {line.caller_number for line in lines}:
            raise web.HTTPBadRequest(text="that number missed no call today")
        saved = console.store.save_ring_back(RingBack(
            pbx=pbx, ring_back_id=ring_back_id, caller_number=number, rung_at=now,
            outcome=outcome, rung_by=account.username, note=note))
        log.info("ring-back %s recorded by %s: %s%s", ring_back_id, account.username,
                 outcome.value, "" if saved else " (sent twice; kept once)")
        raise web.HTTPSeeOther("/ringbacks?saved=1")

    return [web.get("/ringbacks", page), web.post("/ringbacks", record)]
