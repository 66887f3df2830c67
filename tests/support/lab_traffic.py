"""Front-desk traffic for the dashboard and wallboard lab tests, and Prometheus look-ups."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from lab import Lab
from lab.calls import set_phone
from lab.sip.phones import SipPhones
from lab.sip.scenarios import Answer
from monitor.ami import AmiClient

RECEPTIONISTS = ("r1", "r2", "r3")  # the lab's Local-channel receptionists
SIP_RECEPTIONISTS = ("101", "102", "103")
CALL_SPACING_SECONDS = 2.5
# Callers' numbers: answered, abandoning, and a caller left waiting (tests that want one).
ANSWERED_NUMBERS, ABANDONING_NUMBERS, WAITING_NUMBERS = "0310000", "0320000", "0330000"
NEVER_ANSWERED = "03[23]0000"  # the receptionists' `ignore`: abandoning and waiting callers


@asynccontextmanager
async def lab_ami(lab: Lab) -> AsyncIterator[AmiClient]:
    async with AmiClient(port=lab.config.ports.ami, username=lab.config.ami_user,
                         secret=lab.config.ami_secret, events=False) as ami:
        yield ami


async def set_receptionists(ami: AmiClient, *, answer_after: float, talk_for: float) -> None:
    for phone in RECEPTIONISTS:
        await set_phone(ami, phone, answer_after=answer_after, talk_for=talk_for)


async def answered_and_abandoned_calls(phones: SipPhones, *, answered: int,
                                       abandoned: int) -> None:
    """On SIP phones: `answered` callers over the trunk picked up after 2 s, then `abandoned`
    callers who hang up after 4 s of ringing, at a front desk of three SIP receptionists
    (rrmemory) that serve until the phones stop and never answer `NEVER_ANSWERED` numbers
    (so a test may leave a caller waiting afterwards: a `WAITING_NUMBERS` caller).

    Calls are spaced wider than the lab's 1 s scrape, so each one is a separate step of its
    counters in Prometheus: a series whose first sample already counts every call shows no
    increase() at all, and the panels' "today" figures would miss them.
    """
    await phones.use_front_desk(SIP_RECEPTIONISTS, strategy="rrmemory")
    for extension in SIP_RECEPTIONISTS:
        phone = phones.receptionist(extension, Answer(after=2, talk=3, ignore=NEVER_ANSWERED),
                                    calls=None)
        await phone.ready_for(0)
    per_second = 1 / CALL_SPACING_SECONDS
    served = phones.calls_in(answered, numbers=ANSWERED_NUMBERS, per_second=per_second,
                             patience=60)
    await served.finished(answered * CALL_SPACING_SECONDS + 30)
    gave_up = phones.calls_in(abandoned, numbers=ABANDONING_NUMBERS, per_second=per_second,
                              patience=4)
    await gave_up.finished(abandoned * CALL_SPACING_SECONDS + 30)


def prometheus(lab: Lab, path: str, **params: str) -> Any:
    url = f"{lab.config.prometheus_url}{path}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=10) as response:
        body = json.load(response)
    assert body["status"] == "success", body
    return body["data"]


def instant(lab: Lab, expr: str, **params: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = prometheus(lab, "/api/v1/query", query=expr, **params)["result"]
    return result


def scalar(lab: Lab, expr: str, **params: str) -> float:
    """The value of a one-sample query; an empty result (no series at all) counts as 0."""
    result = instant(lab, expr, **params)
    assert len(result) <= 1, result
    return float(result[0]["value"][1]) if result else 0.0


def wait_for(lab: Lab, expr: str, at_least: float, *, timeout: float = 60.0) -> float:
    """Poll until Prometheus sees `expr` reach a value; fails with the last value seen."""
    deadline = time.monotonic() + timeout
    value = scalar(lab, expr)
    while value < at_least and time.monotonic() < deadline:
        time.sleep(0.5)
        value = scalar(lab, expr)
    assert value >= at_least, f"Prometheus saw {expr} = {value}, expected >= {at_least}"
    return value
