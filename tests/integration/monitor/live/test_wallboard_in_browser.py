"""The built-in wallboard, opened in headless Chromium while calls run through the lab, shows
the figures Prometheus has for the same counters at the same moment.

The wallboard reads the monitor's own counters; Prometheus scrapes the same counters every
second. Once Prometheus has scraped after the page's reading (`as_of`) and no call has changed
state in between, both must agree: windows are counter differences since the window's start
(`window_from`, `day_from` in /wallboard.json), computed in PromQL with the `@` modifier.
The callers are SIP user agents on the lab's trunk, the receptionists SIP phones.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
import urllib.request
from datetime import datetime
from html.parser import HTMLParser
from typing import Any

import pytest

from lab import Lab
from lab.browser import rendered_dom, screenshot
from lab.sip.phones import sip_phones
from monitor.live.service import GAUGE_REFRESH_SECONDS
from tests.support.lab_traffic import (
    WAITING_NUMBERS,
    answered_and_abandoned_calls,
    instant,
    scalar,
    wait_for,
)

PBX = 'pbx="lab"'
ANSWERED, ABANDONED = 3, 2  # the fixture's calls before the caller left waiting


class WallboardDom(HTMLParser):
    """The figures the page shows: element id -> (data-value, text), plus causes and rows."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, tuple[str, str]] = {}
        self.causes: dict[str, float] = {}
        self.rows: dict[str, list[str]] = {}
        self._open: tuple[str, str] | None = None
        self._row: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "data-cause" in a:
            self.causes[a["data-cause"]] = float(a["data-value"])
        if tag == "tr" and "data-department" in a:
            self._row = a["data-department"]
            self.rows[self._row] = []
        if tag == "td" and self._row is not None and "data-value" in a:
            self.rows[self._row].append(a["data-value"])
        if "id" in a and "data-value" in a:
            self._open, self._text = (a["id"], a["data-value"]), []

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._open is not None:
            self.values[self._open[0]] = (self._open[1], "".join(self._text).strip())
            self._open = None
        if tag == "tr":
            self._row = None

    def number(self, element: str) -> float | None:
        raw = self.values[element][0]
        return float(raw) if raw else None


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def _since(lab: Lab, series: str, start: float | None, *, at: float,
           by: str = "") -> dict[str, float]:
    """Counter change from `start` to `at`, as the wallboard computes it (no extrapolation).

    `start` None is the monitor's first reading. The session's monitor starts on an empty
    store, so its counters were all zero then (an earlier monitor process on the same port may
    have left samples before it, which do not count).
    """
    grouping = f" by ({by})" if by else ""
    now = {tuple(r["metric"].items()): float(r["value"][1])
           for r in instant(lab, f"sum{grouping} ({series})", time=f"{at:.3f}")}
    then = {} if start is None else {
        tuple(r["metric"].items()): float(r["value"][1])
        for r in instant(lab, f"sum{grouping} ({series} @ {start:.3f})", time=f"{at:.3f}")}
    return {dict(key).get(by, "") if by else "": value - then.get(key, 0.0)
            for key, value in now.items()}


def _total(changes: dict[str, float]) -> float:
    return sum(changes.values())


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


def _percent_text(value: float | None) -> str:
    return "—" if value is None else f"{math.floor(value * 100 + 1e-9)} %"


def _page_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}.json", timeout=5) as response:
        figures: dict[str, Any] = json.load(response)
    return figures


def _last_scrape(lab: Lab) -> float:
    return scalar(lab, 'max(timestamp(up{job="callsla"}))')


def _steady_reading(lab: Lab, url: str) -> tuple[WallboardDom, dict[str, Any], float, float]:
    """The page's figures and the time of the first scrape after them, taken while no call
    changed state between the two (re-read after the scrape); a few tries if one did."""
    for _attempt in range(5):
        dom = WallboardDom()
        dom.feed(rendered_dom(url))
        as_of = _epoch(dom.values["as_of"][0])
        deadline = time.monotonic() + 30
        while _last_scrape(lab) <= as_of:
            assert time.monotonic() < deadline, "Prometheus stopped scraping the monitor"
            time.sleep(0.2)
        at = _last_scrape(lab)
        after = _page_json(url)
        steady = (after["offered_today"] == dom.number("offered_today")
                  and sum(after["missed_today"].values()) == dom.number("missed_today")
                  and after["callers_waiting"] == dom.number("callers_waiting"))
        if steady:
            return dom, after, as_of, at
    raise AssertionError("calls kept changing state: no steady moment to compare")


@pytest.fixture(scope="module")
async def caller_waiting(lab: Lab, monitor_process: str) -> Any:
    """Answered and abandoned calls, then one caller left waiting for a receptionist (whose
    phone never answers that number) while the test runs."""
    async with sip_phones(lab) as phones:
        await answered_and_abandoned_calls(phones, answered=ANSWERED, abandoned=ABANDONED)
        await phones.call_in(f"{WAITING_NUMBERS}01", patience=90)
        wait_for(lab, f"sum(callsla_callers_waiting{{{PBX}}})", 1)
        yield monitor_process
        assert lab.pbx is not None
        lab.pbx.cli("channel request hangup all")
        await asyncio.sleep(1)


def test_wallboard_shows_prometheus_figures_at_the_same_moment(lab: Lab,
                                                               caller_waiting: str) -> None:
    url = f"{caller_waiting}/wallboard"
    dom, windows, as_of, at = _steady_reading(lab, url)
    window_start, day_start = _epoch(windows["window_from"]), _epoch(windows["day_from"])
    started = _epoch(windows["monitor_started"])
    window_from = None if window_start <= started else window_start
    day_from = None if day_start <= started else day_start

    within = f'callsla_answer_wait_seconds_bucket{{{PBX},le="10.0"}}'
    offered = f"callsla_calls_offered_total{{{PBX}}}"
    rate_15m = _ratio(_total(_since(lab, within, window_from, at=at)),
                      _total(_since(lab, offered, window_from, at=at)))
    rate_today = _ratio(_total(_since(lab, within, day_from, at=at)),
                        _total(_since(lab, offered, day_from, at=at)))
    assert rate_today is not None, "no offered call reached Prometheus"
    assert dom.number("answer_rate_15m") == pytest.approx(rate_15m)
    assert dom.values["answer_rate_15m"][1] == _percent_text(rate_15m)
    assert dom.number("answer_rate_today") == pytest.approx(rate_today)
    assert dom.values["answer_rate_today"][1] == _percent_text(rate_today)
    assert dom.number("offered_today") == _total(_since(lab, offered, day_from, at=at))
    # This module's monitor started on an empty store: every call of the fixture, exactly.
    assert dom.number("offered_today") == ANSWERED + ABANDONED + 1

    missed = _since(lab, f"callsla_calls_missed_total{{{PBX}}}", day_from, at=at, by="cause")
    assert dom.causes == {cause: n for cause, n in missed.items() if n > 0}
    assert dom.causes == {"abandoned": ABANDONED}
    assert dom.number("missed_today") == _total(missed)
    assert dom.number("returned_today") == _total(
        _since(lab, f"callsla_transfers_returned_total{{{PBX}}}", day_from, at=at))

    def now_value(expr: str) -> float:
        return scalar(lab, expr, time=f"{at:.3f}")

    assert dom.number("callers_waiting") == now_value(f"sum(callsla_callers_waiting{{{PBX}}})")
    assert dom.number("callers_waiting") == 1
    assert dom.number("callbacks_open") == now_value(f"sum(callsla_callbacks_open{{{PBX}}})")
    assert dom.number("callbacks_overdue") == now_value(
        f"sum(callsla_callbacks_overdue{{{PBX}}})")
    # The longest wait grows while the caller waits, so the scrape (at `at`, after the page's
    # reading) may be ahead by the time between them plus the monitor's refresh step.
    longest = now_value(f"max(callsla_longest_wait_seconds{{{PBX}}})")
    ahead = longest - (dom.number("longest_wait_seconds") or 0.0)
    assert 0 <= ahead <= (at - as_of) + GAUGE_REFRESH_SECONDS

    status = "callsla_status_announcement_interval_seconds"
    on_time = _ratio(
        _total(_since(lab, f'{status}_bucket{{{PBX},le="21.0"}}', window_from, at=at)),
        _total(_since(lab, f"{status}_count{{{PBX}}}", window_from, at=at)))
    assert dom.number("status_on_time_15m") == (pytest.approx(on_time) if on_time else on_time)

    offered_by_department = _since(lab, offered, day_from, at=at, by="department")
    for department, count in offered_by_department.items():
        assert float(dom.rows[department][0]) == count, department

    screenshot(url, lab.config.lab_dir / "wallboard.png")
