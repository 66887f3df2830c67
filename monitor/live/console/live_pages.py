"""The supervisor's live page: callers waiting now per queue and officer line with their wait,
every receptionist's and officer's state, and today's figures per person.

The page is a shell that polls `/live.json` (no build step). Waiting callers come from the
monitor's own call state (the legs behind `callsla_callers_waiting`); people's states from the
PBX over AMI (`QueueStatus`, `DeviceStateList`, the officers' AstDB status), asked at most once
per `PBX_ASK_SECONDS` whoever is watching; figures from the store's person rings, as the
quarterly report's per-person table counts them.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web

from monitor.ami import AmiClient, AmiError
from monitor.ami.lists import list_action
from monitor.ami.officer_status import officer_status
from monitor.core.accounts import Right
from monitor.core.directory import Directory, DirectoryError, load_directory
from monitor.core.records import OTHER_PERSON, LegKind, RingResult
from monitor.live.console.app import Console
from monitor.live.console.person_states import PersonState, member_state, officer_state
from monitor.live.console.today import today_window

log = logging.getLogger(__name__)

PBX_ASK_SECONDS = 2.0
REFRESH_SECONDS = 3
_REPLIES = frozenset({"QueueMember", "QueueParams", "QueueEntry", "QueueStatusComplete",
                      "DeviceStateChange", "DeviceStateListComplete", "DBGetResponse",
                      "DBGetComplete"})
Person = dict[str, object]


async def people_now(console: Console, directory: Directory | None,
                     language: str) -> list[Person]:
    """Receptionists (queue members) and officers with their state; AmiError if the PBX
    cannot be asked."""
    endpoint = console.settings.ami
    if endpoint is None:
        raise AmiError("the monitor has no CALLSLA_AMI_URL")
    async with AmiClient.from_endpoint(endpoint, only_events=_REPLIES) as ami:
        members = await list_action(ami, "QueueStatus", "QueueStatusComplete")
        devices = {e.get("device", ""): e.get("state", "")
                   for e in await list_action(ami, "DeviceStateList", "DeviceStateListComplete")}
        reply = await ami.action("Getvar", Variable="OFFICER_DEVICE_PREFIX")
        prefix = reply.get("value", "") if reply.succeeded else ""
        people: list[Person] = [
            {"kind": "receptionist", "person": e.get("name", ""), "name": e.get("name", ""),
             "where": e.get("queue", ""), "state": member_state(e).value}
            for e in members if e.event == "QueueMember"]
        for extension, officer in (directory.officers if directory else {}).items():
            status = await officer_status(ami, extension) or officer.status
            state = officer_state(devices.get(f"{prefix or 'PJSIP/'}{extension}", ""), status)
            people.append({"kind": "officer", "person": extension, "name": officer.name,
                           "where": department_name(directory, officer.department, language),
                           "state": state.value, "status": status.value})
    return people


@dataclass
class _Asked:
    """The PBX's last answer, shared by everyone watching."""

    at: float = float("-inf")
    people: list[Person] = field(default_factory=list)
    error: str = ""
    language: str = ""


def department_name(directory: Directory | None, department: str, language: str) -> str:
    return directory.department_name(department, language) if directory else department


def routes(console: Console) -> list[web.AbstractRouteDef]:
    pbx = console.settings.pbx
    asked = _Asked()

    def directory() -> Directory | None:
        try:
            return load_directory(console.settings.directory)
        except DirectoryError as exc:
            log.warning("live page without officers: %s", exc)
            return None

    async def people(officers: Directory | None, language: str) -> tuple[list[Person], str]:
        if time.monotonic() - asked.at >= PBX_ASK_SECONDS or asked.language != language:
            asked.language = language
            try:
                asked.people, asked.error = await people_now(console, officers, language), ""
            except AmiError as exc:
                log.warning("live page: people's states not read (%s)", exc)
                asked.people, asked.error = [], str(exc)
            asked.at = time.monotonic()
        return [dict(p) for p in asked.people], asked.error

    async def page(request: web.Request) -> web.Response:
        console.require(request, Right.VIEW_LIVE)
        return console.render(request, "live.html", refresh_seconds=REFRESH_SECONDS,
                              answer_within=console.settings.answer_within_seconds)

    async def figures(request: web.Request) -> web.Response:
        console.require(request, Right.VIEW_LIVE)
        now = datetime.now(UTC)
        officers = directory()
        names = {e: o.name for e, o in officers.officers.items()} if officers else {}
        waiting = [{
            "where": leg.queue if leg.kind in (LegKind.FRONT_DESK, LegKind.RETURNED)
            else leg.officer,
            "line": "queue" if leg.kind in (LegKind.FRONT_DESK, LegKind.RETURNED) else "officer",
            "officer_name": names.get(leg.officer, ""), "caller_number": leg.caller_number,
            "caller_name": leg.caller_name,
            "waited_seconds": round(max((now - leg.offered_at).total_seconds(), 0.0), 1)}
            for leg in sorted(console.waiting(), key=lambda leg: leg.offered_at)]
        listed, error = await people(officers, console.language(request))
        start, end = today_window(now, console.settings.timezone)
        rings: Counter[tuple[str, str]] = Counter()
        for tally in console.store.person_ring_figures(
                start, end, within_seconds=console.settings.answer_within_seconds, pbx=pbx):
            rings[(tally.person, tally.result.value)] += tally.count
            rings[(tally.person, "within")] += tally.answered_within
        known = {str(p["person"]) for p in listed}
        listed += [{"kind": "other", "person": person, "name": person, "where": "",
                    "state": PersonState.UNKNOWN.value}
                   for person in sorted({p for p, _ in rings} - known - {OTHER_PERSON})]
        for person in listed:
            label = str(person["person"])
            counts = {r.value: rings[(label, r.value)] for r in RingResult}
            person.update(counts, rung=sum(counts.values()), within=rings[(label, "within")])
        local = now.astimezone(console.settings.timezone).strftime("%H:%M:%S")
        return web.json_response({"at": now.isoformat(), "at_local": local, "waiting": waiting,
                                  "people": listed, "error": error})

    return [web.get("/live", page), web.get("/live.json", figures)]
