"""Front-desk traffic for the dashboard and wallboard lab tests, and Prometheus look-ups."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from lab import Lab
from lab.calls import place_inbound_call, set_phone
from monitor.ami import AmiClient

RECEPTIONISTS = ("r1", "r2", "r3")
CALL_SPACING_SECONDS = 2.5


@asynccontextmanager
async def lab_ami(lab: Lab) -> AsyncIterator[AmiClient]:
    async with AmiClient(port=lab.config.ports.ami, username=lab.config.ami_user,
                         secret=lab.config.ami_secret, events=False) as ami:
        yield ami


async def set_receptionists(ami: AmiClient, *, answer_after: float, talk_for: float) -> None:
    for phone in RECEPTIONISTS:
        await set_phone(ami, phone, answer_after=answer_after, talk_for=talk_for)


async def answered_and_abandoned_calls(lab: Lab, *, answered: int, abandoned: int) -> None:
    """`answered` calls picked up after 2 s, then `abandoned` callers who hang up after 4 s.

    Calls are spaced wider than the lab's 1 s scrape, so each one is a separate step of its
    counters in Prometheus: a series whose first sample already counts every call shows no
    increase() at all, and the panels' "today" figures would miss them.
    """
    async with lab_ami(lab) as ami:
        await set_receptionists(ami, answer_after=2, talk_for=3)
        for n in range(answered):
            await place_inbound_call(ami, caller_id=f"0310000{n:03d}", patience=60)
            await asyncio.sleep(CALL_SPACING_SECONDS)
        await asyncio.sleep(8)  # the answered calls are over before the phones stop answering
        await set_receptionists(ami, answer_after=999, talk_for=3)
        for n in range(abandoned):
            await place_inbound_call(ami, caller_id=f"0320000{n:03d}", patience=4)
            await asyncio.sleep(CALL_SPACING_SECONDS)
        await asyncio.sleep(6)
        await set_receptionists(ami, answer_after=2, talk_for=5)


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
