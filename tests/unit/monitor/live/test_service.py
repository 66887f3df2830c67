"""The monitor service without a PBX: a fake AMI server and a temporary SQLite store; /metrics and
/healthz over HTTP; SIGTERM stops it cleanly; a restart serves the counters rebuilt from the
store before any new event."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from monitor.core.settings import Settings, SettingsError
from monitor.live.service import MonitorService
from monitor.store import open_store
from tests.support.fake_ami import FakeAmi, read_capture

CAPTURE = read_capture(Path(__file__).parents[3] / "data" / "ami_answered_then_abandoned.txt")
FRONT_DESK = {"pbx": "unit", "queue": "frontdesk", "department": ""}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def http_get(port: int, path: str) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    response = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def sample(text: bytes, name: str, labels: dict[str, str]) -> float | None:
    for family in text_string_to_metric_families(text.decode()):
        for s in family.samples:
            if s.name == name and s.labels == labels:
                return float(s.value)
    return None


async def metrics_once_offered(port: int, offered: int) -> bytes:
    """/metrics as soon as it counts `offered` front-desk legs (10 s at most)."""
    async with asyncio.timeout(10):
        while True:
            _, text = await http_get(port, "/metrics")
            if sample(text, "callsla_calls_offered_total", FRONT_DESK) == offered:
                return text
            await asyncio.sleep(0.05)


class Running:
    """One MonitorService.run() as a task, stopped the way an operator stops it: SIGTERM."""

    def __init__(self, settings: Settings) -> None:
        self.service = MonitorService(settings)
        self.port = settings.metrics_listen[1]
        self.task = asyncio.create_task(self.service.run())

    async def health(self) -> dict[str, object]:
        status, body = await http_get(self.port, "/healthz")
        health: dict[str, object] = json.loads(body)
        assert status == (200 if health["ok"] else 503)
        return health

    async def until(self, check: Callable[[dict[str, object]], bool], what: str) -> None:
        async with asyncio.timeout(10):
            while True:
                if self.task.done():
                    raise AssertionError(f"service ended: {self.task.exception()!r}")
                with contextlib.suppress(OSError):
                    if check(await self.health()):
                        return
                await asyncio.sleep(0.05)
        raise AssertionError(what)  # pragma: no cover - the timeout raises first

    async def stop(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            if not self.task.done():
                # run() put its handler in before starting the feeds; never SIGTERM pytest itself
                assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
                os.kill(os.getpid(), signal.SIGTERM)
                await asyncio.wait_for(self.task, 10)
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):  # run() took its handlers away
                assert loop.remove_signal_handler(sig) is False, sig


@pytest.fixture
async def ami() -> AsyncIterator[FakeAmi]:
    server = await FakeAmi().start()
    yield server
    await server.close()


def settings_for(tmp_path: Path, ami: FakeAmi | None) -> Settings:
    return Settings(
        ami_url=None if ami is None else
        f"tcp://{ami.username}:{ami.secret}@127.0.0.1:{ami.port}",
        db_url=f"sqlite:///{tmp_path}/service.db", metrics_addr=f"127.0.0.1:{free_port()}",
        pbx="unit")


async def test_the_service_counts_ami_calls_serves_them_and_stops_on_sigterm(
        ami: FakeAmi, tmp_path: Path) -> None:
    running = Running(settings_for(tmp_path, ami))
    try:
        await running.until(lambda h: h["ami_connected"] is True, "AMI connected")
        health = await running.health()
        assert (health["ok"], health["pbx"], health["store"], health["mqtt_connected"]) == (
            True, "unit", "sqlite", False)
        assert health["charter_version"] == "2026.1"
        status, before = await http_get(running.port, "/metrics")
        assert status == 200
        assert sample(before, "callsla_calls_offered_total", FRONT_DESK) == 0
        # the directory's departments have series before their first call
        assert sample(before, "callsla_calls_offered_total",
                      {"pbx": "unit", "queue": "", "department": "finance"}) == 0
        await ami.send(*CAPTURE)
        text = await metrics_once_offered(running.port, 2)
        assert sample(text, "callsla_calls_answered_total", FRONT_DESK) == 1
        assert sample(text, "callsla_calls_missed_total", {**FRONT_DESK, "cause": "abandoned"}) == 1
        assert sample(text, "callsla_answer_wait_seconds_bucket", {**FRONT_DESK, "le": "10.0"}) == 1
        assert sample(text, "callsla_monitor_source_connected",
                      {"pbx": "unit", "source": "ami"}) == 1
        # without a console session any other path is the login page (issue 12)
        assert (await http_get(running.port, "/nowhere"))[0] == 303
        assert (await http_get(running.port, "/wallboard"))[0] == 200
    finally:
        await running.stop()
    assert running.task.result() is None
    with pytest.raises(ConnectionRefusedError):  # the HTTP port is closed
        await http_get(running.port, "/healthz")
    async with asyncio.timeout(5):  # the AMI connection is closed, not left behind
        while ami.clients:  # noqa: ASYNC110 - a count kept by the fake server
            await asyncio.sleep(0.02)
    with open_store(settings_for(tmp_path, None).db_url) as store:
        assert store.count_legs("unit") == 2


async def test_a_restart_serves_the_counters_rebuilt_from_the_store(
        ami: FakeAmi, tmp_path: Path) -> None:
    first = Running(settings_for(tmp_path, ami))
    try:
        await first.until(lambda h: h["ami_connected"] is True, "AMI connected")
        await ami.send(*CAPTURE)
        with open_store(f"sqlite:///{tmp_path}/service.db") as store:
            async with asyncio.timeout(10):
                while store.count_legs("unit") < 2 or store.open_legs("unit"):  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
    finally:
        await first.stop()
    again = Running(settings_for(tmp_path, None))  # no AMI at all: only the store
    try:
        await again.until(lambda h: h["ok"] is True, "service up")
        assert (await again.health())["ami_connected"] is False
        _, text = await http_get(again.port, "/metrics")
        assert sample(text, "callsla_calls_offered_total", FRONT_DESK) == 2
        assert sample(text, "callsla_calls_answered_total", FRONT_DESK) == 1
        assert sample(text, "callsla_calls_missed_total", {**FRONT_DESK, "cause": "abandoned"}) == 1
    finally:
        await again.stop()


async def test_a_full_disk_makes_healthz_not_ok_until_the_store_works_again(
        ami: FakeAmi, tmpfs: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """A store that cannot write is reported (503, the error, a log line), and the monitor
    recovers by itself when space returns: /healthz is ok again before the next call, and
    the next calls are counted."""
    from monitor.live import service as service_module
    from tests.support.full_disk import fill_disk

    monkeypatch.setattr(service_module, "CALLBACK_REFRESH_SECONDS", 0.2)
    disk = tmpfs("4m")
    settings = settings_for(disk, ami)
    running = Running(settings)
    try:
        await running.until(lambda h: h["ami_connected"] is True, "AMI connected")
        assert (await running.health())["store_error"] is None
        filler = fill_disk(disk)
        await ami.send(*CAPTURE)
        await running.until(lambda h: h["ok"] is False, "healthz not ok on a full disk")
        health = await running.health()
        assert "full" in str(health["store_error"])
        assert any("store failed" in r.getMessage() and r.levelname == "ERROR"
                   for r in caplog.records)
        filler.unlink()
        await running.until(lambda h: h["ok"] is True, "healthz ok once space returns")
        await running.until(lambda h: h["ami_connected"] is True, "AMI connected again")
        await ami.send(*CAPTURE)
        await metrics_once_offered(running.port, 2)
        assert (await running.health())["ok"] is True
    finally:
        await running.stop()


async def test_a_metrics_address_in_use_is_one_clear_error(tmp_path: Path) -> None:
    """`callsla monitor` on a port something else holds: a SettingsError (exit 2, one line),
    not an OSError traceback."""
    settings = settings_for(tmp_path, None)
    host, port = settings.metrics_listen
    with socket.socket() as taken:
        taken.bind((host, port))
        taken.listen()
        with pytest.raises(SettingsError, match=r"CALLSLA_METRICS_ADDR: cannot listen on "):
            await MonitorService(settings).run()
