"""Consoles on real HTTP with SQLite stores: `served` has exports and seeded records (the admin
and auditor pages, the API); `desk` has today's calls, one account per role and a fake AMI that
answers what the officers' and live pages ask (AstDB, queue members, devices)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from prometheus_client import CollectorRegistry

from monitor.core.accounts import Role
from monitor.core.charter import load_charter
from monitor.core.records import CallLeg, LegKind, MissedCause, Outcome
from monitor.core.settings import Endpoint
from monitor.live.console import Console, ConsoleSettings, console_routes
from monitor.live.console.accounts import add_account
from monitor.live.console.downloads import Downloads
from monitor.live.http_server import MonitorHttpServer, Page
from monitor.store import Store, open_store
from tests.support.console_data import PASSWORD, seed_console_store
from tests.support.console_session import browser, csrf_token, login
from tests.support.fake_ami import FakeAmi

__all__ = ["browser"]  # the pages' tests take the browser from here too

PBX = "unit"


@dataclass
class Served:
    store: Store
    base: str
    console: Console


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    url = f"sqlite:///{tmp_path / 'console.db'}"
    store = open_store(url)
    seed_console_store(store, pbx=PBX)
    charter = load_charter()
    console = Console(ConsoleSettings(pbx=PBX, timezone=ZoneInfo("Asia/Kuala_Lumpur")),
                      store=lambda: store,
                      downloads=Downloads(charter=charter, pbx=PBX,
                                          reader=lambda: open_store(url)))
    async with console_server(console) as base:
        yield Served(store=store, base=base, console=console)
    store.close()


@asynccontextmanager
async def console_server(console: Console, *,
                         pages: Mapping[str, Page] | None = None) -> AsyncIterator[str]:
    """The console on the monitor's HTTP server at a free port; yields its base URL."""
    http = MonitorHttpServer(registry=CollectorRegistry(), health=lambda: {"ok": True},
                             pages=pages, routes=console_routes(console),
                             middlewares=[console.guard])
    await http.start("127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{http.port}"
    finally:
        await http.close()


async def logged_in(client: aiohttp.ClientSession, base: str, user: str) -> str:
    """Log in; the session's CSRF token (from the page logging in leads to)."""
    status, page = await login(client, base, user)
    assert status == 200, page
    return csrf_token(page)


def zone_at_midday() -> ZoneInfo:
    """A zone where it is about noon now, so "today" holds the last hour whenever tests run."""
    offset = (datetime.now(UTC).hour - 12 + 12) % 24 - 12  # Etc/GMT+N is N hours behind UTC
    return ZoneInfo(f"Etc/GMT{offset:+d}" if offset else "UTC")

REPEATER = "0123456789"  # missed twice today
LATER = "0198765432"  # missed, then answered on a second call


@dataclass
class Desk:
    store: Store
    base: str
    ami: FakeAmi
    astdb: dict[str, str]
    waiting: list[CallLeg] = field(default_factory=list)


def _leg(n: int, at: datetime, number: str, outcome: Outcome, *,
         kind: LegKind = LegKind.FRONT_DESK, officer: str = "") -> CallLeg:
    return CallLeg(pbx="unit", call_id=f"call-{n}", leg_id=f"leg-{n}-{kind.value}", kind=kind,
                   offered_at=at, caller_number=number, caller_name="Puan Aminah",
                   queue="" if officer else "frontdesk", officer=officer, outcome=outcome,
                   answered_at=at + timedelta(seconds=4) if outcome is Outcome.ANSWERED
                   else None, answered_by="Reception 101" if outcome is Outcome.ANSWERED
                   else "", missed_cause=MissedCause.ABANDONED if outcome is Outcome.MISSED
                   else None, uniqueid=f"{n}.1")


def todays_calls(now: datetime) -> list[CallLeg]:
    ago = [now - timedelta(minutes=m) for m in (50, 40, 30, 20, 10)]
    returned = _leg(5, ago[4], "0177777777", Outcome.RETURNED, kind=LegKind.TRANSFER,
                    officer="2201")
    back = _leg(5, ago[4] + timedelta(seconds=20), "0177777777", Outcome.ANSWERED,
                kind=LegKind.RETURNED)
    back.returned_from = "2201"
    return [_leg(1, ago[0], REPEATER, Outcome.MISSED), _leg(2, ago[2], REPEATER, Outcome.MISSED),
            _leg(3, ago[1], LATER, Outcome.MISSED), _leg(4, ago[3], LATER, Outcome.ANSWERED),
            returned, back]


def _answer(ami: FakeAmi, astdb: dict[str, str]) -> None:
    def aid(action: dict[str, str]) -> dict[str, str]:
        return {"ActionID": action["ActionID"]}

    def db_get(action: dict[str, str]) -> list[dict[str, str]]:
        key = action["Key"]
        if key not in astdb:
            return [{"Response": "Error", "Message": "Database entry not found"}]
        return [{"Response": "Success", "Message": "Result will follow"},
                {"Event": "DBGetResponse", **aid(action), "Family": action["Family"],
                 "Key": key, "Val": astdb[key]},
                {"Event": "DBGetComplete", **aid(action), "EventList": "Complete"}]

    def db_put(action: dict[str, str]) -> list[dict[str, str]]:
        astdb[action["Key"]] = action["Val"]
        return [{"Response": "Success", "Message": "Updated database successfully"}]

    def queue_status(action: dict[str, str]) -> list[dict[str, str]]:
        members = [("Reception 101", "1", "0"), ("Reception 102", "6", "0"),
                   ("Reception 103", "1", "1")]
        return [{"Response": "Success", "Message": "Queue status will follow"},
                *({"Event": "QueueMember", **aid(action), "Queue": "frontdesk", "Name": name,
                   "Status": status, "Paused": paused, "InCall": "0"}
                  for name, status, paused in members),
                {"Event": "QueueStatusComplete", **aid(action), "EventList": "Complete"}]

    def devices(action: dict[str, str]) -> list[dict[str, str]]:
        states = {"PJSIP/2101": "INUSE", "PJSIP/2201": "NOT_INUSE",
                  "PJSIP/2102": "UNAVAILABLE"}
        return [{"Response": "Success", "Message": "Device State Changes will follow"},
                *({"Event": "DeviceStateChange", **aid(action), "Device": d, "State": s}
                  for d, s in states.items()),
                {"Event": "DeviceStateListComplete", **aid(action), "EventList": "Complete"}]

    ami.handlers.update({"DBGet": db_get, "DBPut": db_put, "QueueStatus": queue_status,
                         "DeviceStateList": devices,
                         "Getvar": lambda _a: [{"Response": "Success", "Value": "PJSIP/"}]})


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    store = open_store(f"sqlite:///{tmp_path / 'console.db'}")
    for name, role in (("siti", Role.HELP_DESK), ("sara", Role.SUPERVISOR),
                       ("aziz", Role.AUDITOR), ("root", Role.ADMIN)):
        add_account(store, name, role, PASSWORD)
    store.save_legs(todays_calls(datetime.now(UTC)))
    ami = await FakeAmi().start()
    astdb: dict[str, str] = {}
    _answer(ami, astdb)
    desk = Desk(store=store, base="", ami=ami, astdb=astdb)
    console = Console(ConsoleSettings(
        pbx="unit", timezone=zone_at_midday(),
        ami=Endpoint("tcp", "127.0.0.1", ami.port, ami.username, ami.secret),
        officer_ami=Endpoint("tcp", "127.0.0.1", ami.port, ami.username, ami.secret)),
        store=lambda: store, waiting=lambda: desk.waiting)
    http = MonitorHttpServer(registry=CollectorRegistry(), health=lambda: {"ok": True},
                             routes=console_routes(console), middlewares=[console.guard])
    await http.start("127.0.0.1", 0)
    desk.base = f"http://127.0.0.1:{http.port}"
    yield desk
    await http.close()
    await ami.close()
    store.close()
