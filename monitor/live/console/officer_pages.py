"""The front desk's officers page: who is in, out or on leave, set in one click, and today's
transfers that came back to the front desk, with the officer they came back from.

The status is set as `callsla officer set-status` sets it (`monitor.ami.officer_status`:
AMI `DBPut` into AstDB, which the call flows read on every call), so it applies to the next
call; the `officer_status_changed` event that says who set it is kept in the store.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web

from monitor.ami import AmiClient, AmiError
from monitor.ami.officer_status import officer_status, set_officer_status
from monitor.core.accounts import Right
from monitor.core.directory import Directory, DirectoryError, OfficerStatus, load_directory
from monitor.core.events import OfficerStatusChanged
from monitor.core.records import CallLeg, LegKind, Outcome
from monitor.live.console.app import Console
from monitor.live.console.today import today_window
from monitor.store import StoredEvent

log = logging.getLogger(__name__)

# Only the replies to DBGet: nothing else of the PBX's event stream is parsed here.
_REPLIES = frozenset({"DBGetResponse", "DBGetComplete"})


@dataclass(frozen=True)
class ReturnedTransfer:
    """A transfer nobody answered, back at the front desk; `then` is what happened next."""

    leg: CallLeg
    officer_name: str
    then: CallLeg | None


def returned_transfers(legs: list[CallLeg], directory: Directory | None) -> list[ReturnedTransfer]:
    """Officer legs that went back to the front desk, newest first, each with the front-desk
    leg that followed it in the same call (if there was one)."""
    found = []
    for leg in legs:
        if leg.outcome is not Outcome.RETURNED:
            continue
        after = [other for other in legs if other.call_id == leg.call_id and
                 other.kind is LegKind.RETURNED and other.offered_at >= leg.offered_at]
        officer = directory.officer(leg.officer) if directory else None
        found.append(ReturnedTransfer(leg=leg, officer_name=officer.name if officer else "",
                                      then=min(after, key=lambda o: o.offered_at, default=None)))
    return sorted(found, key=lambda r: r.leg.offered_at, reverse=True)


def routes(console: Console) -> list[web.AbstractRouteDef]:
    pbx = console.settings.pbx

    def directory() -> Directory:
        try:
            return load_directory(console.settings.directory)
        except DirectoryError as exc:
            raise web.HTTPServiceUnavailable(text=f"no officer directory: {exc}") from None

    def ami() -> AmiClient:
        endpoint = console.settings.officer_ami
        if endpoint is None:
            raise AmiError("the monitor has no CALLSLA_OFFICER_AMI_URL nor CALLSLA_AMI_URL")
        return AmiClient.from_endpoint(endpoint, only_events=_REPLIES)

    async def page(request: web.Request) -> web.Response:
        account = console.require(request, Right.VIEW_OFFICERS)
        officers = directory()
        live: dict[str, OfficerStatus] = {}
        error = ""
        try:
            async with ami() as client:
                for extension in officers.officers:
                    if (status := await officer_status(client, extension)) is not None:
                        live[extension] = status
        except AmiError as exc:
            error = str(exc)
            log.warning("officers page: live status not read (%s)", exc)
        now = datetime.now(UTC)
        legs = list(console.store.legs_between(*today_window(now, console.settings.timezone),
                                               pbx=pbx))
        return console.render(
            request, "officers.html", directory=officers, error=error,
            statuses={e: live.get(e, o.status) for e, o in officers.officers.items()},
            choices=list(OfficerStatus), may_set=account.may(Right.SET_OFFICER_STATUS),
            returned=returned_transfers(legs, officers), zone=console.settings.timezone,
            changed=request.query.get("changed", ""))

    async def set_status(request: web.Request) -> web.StreamResponse:
        account = console.require(request, Right.SET_OFFICER_STATUS)
        form = await request.post()
        extension = request.match_info["extension"]
        officer = directory().officer(extension)
        if officer is None:
            raise web.HTTPNotFound(text=f"no officer at extension {extension!r}")
        try:
            status = OfficerStatus(str(form.get("status", "")))
        except ValueError:
            raise web.HTTPBadRequest(text="status must be in, out or leave") from None
        try:
            async with ami() as client:
                await set_officer_status(client, officer.extension, status)
        except AmiError as exc:
            log.error("officer %s not set %s by %s: %s", extension, status.value,
                      account.username, exc)
            raise web.HTTPBadGateway(text=f"the PBX did not take it: {exc}") from None
        event = OfficerStatusChanged(
            pbx=pbx, timestamp=datetime.now(UTC), call_id="", uniqueid="",
            department=officer.department, officer=officer.extension, status=status.value)
        console.store.record_event(StoredEvent.of(event, pbx=pbx,
                                                  source=f"console:{account.username}",
                                                  payload=event.to_json().decode()))
        log.info("officer %s set %s by %s", extension, status.value, account.username)
        raise web.HTTPSeeOther(f"/officers?changed={officer.extension}")

    return [web.get("/officers", page),
            web.post("/officers/{extension}/status", set_status)]
