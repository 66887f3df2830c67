"""Downloads: made in a worker thread (the loop keeps answering meanwhile), sent in chunks, their
temporary folder gone afterwards; the form's checks, each with a clear error."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import pytest

from monitor.core.accounts import Account, Role
from monitor.live.console import downloads
from monitor.live.console.downloads import (
    CHUNK_BYTES,
    DownloadRefusedError,
    Downloads,
    parse_export_ask,
)
from monitor.reports.errors import ReportError
from tests.unit.monitor.live.console.conftest import Served, browser, logged_in
from tests.unit.monitor.live.console.test_auditor_pages import TODAY

AUDITOR = Account(username="aziz", role=Role.AUDITOR, password_hash="")
HELP_DESK = Account(username="siti", role=Role.HELP_DESK, password_hash="")
SUPERVISOR = Account(username="mira", role=Role.SUPERVISOR, password_hash="")


def test_the_form_is_checked_before_any_work() -> None:
    good = {"from": "2026-07-01", "to": "2026-09-30"}
    ask = parse_export_ask(good, SUPERVISOR)
    assert (ask.fmt, ask.per, ask.masked) == ("csv", "leg", True)
    assert ask.file_name == "callsla-export-2026-07-01-2026-09-30.csv"
    for fields, message in (({"from": "x", "to": "2026-09-30"}, "not a date"),
                            ({"from": "2026-09-30", "to": "2026-07-01"}, "out of order"),
                            ({**good, "format": "pdf"}, "must be one of"),
                            ({**good, "per": "day"}, "leg or call"),
                            ({**good, "unmasked": "1", "reason": "  "}, "needs a reason")):
        with pytest.raises(ReportError, match=message):
            parse_export_ask(fields, AUDITOR)
    with pytest.raises(DownloadRefusedError):
        parse_export_ask({**good, "unmasked": "1", "reason": "audit"}, SUPERVISOR)
    with pytest.raises(DownloadRefusedError):
        parse_export_ask(good, HELP_DESK)


async def test_a_slow_export_does_not_stall_the_loop_and_leaves_no_file(
        served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[Path] = []

    def slow_export(_self: Downloads, _ask: object, out: Path, _by: str) -> None:
        time.sleep(1.5)  # a large export's CPU time, in the worker thread
        out.write_bytes(b"x" * (3 * CHUNK_BYTES + 5))
        made.append(out)

    monkeypatch.setattr(Downloads, "_export", slow_export)
    async with browser() as client, aiohttp.ClientSession() as other:
        token = await logged_in(client, served.base, "aziz")

        async def download() -> bytes:
            async with client.post(f"{served.base}/auditor/export", data={
                    "csrf_token": token, "from": TODAY, "to": TODAY}) as response:
                return await response.read()

        started = time.monotonic()
        running = asyncio.create_task(download())
        await asyncio.sleep(0.3)
        async with other.get(f"{served.base}/login") as response:
            assert response.status == 200
        answered = time.monotonic() - started
        body = await running
    assert answered < 1.2, "the login page waited for the export"
    assert len(body) == 3 * CHUNK_BYTES + 5
    assert not made[0].parent.exists()
    assert downloads.CONTENT_TYPES["parquet"] == "application/vnd.apache.parquet"
