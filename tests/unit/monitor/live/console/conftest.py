"""A console on real HTTP with today's calls in a SQLite store, one account per role, and a
fake AMI that answers what the officers' and live pages ask (AstDB, queue members, devices)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import CollectorRegistry

from monitor.core.accounts import Role
from monitor.core.records import CallLeg, LegKind, MissedCause, Outcome
from monitor.core.settings import Endpoint
from monitor.live.console import Console, ConsoleSettings, console_routes
from monitor.live.console.accounts import add_account
from monitor.live.http_server import MonitorHttpServer
from monitor.store import Store, open_store
from tests.support.console_session import PASSWORD
from tests.support.fake_ami import FakeAmi


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
        ami=Endpoint("tcp", "127.0.0.1", ami.port, ami.username, ami.secret)),
        store=lambda: store, waiting=lambda: desk.waiting)
    http = MonitorHttpServer(registry=CollectorRegistry(), health=lambda: {"ok": True},
                             routes=console_routes(console), middlewares=[console.guard])
    await http.start("127.0.0.1", 0)
    desk.base = f"http://127.0.0.1:{http.port}"
    yield desk
    await http.close()
    await ami.close()
    store.close()
