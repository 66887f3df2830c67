"""Any HTTP request to the monitor's port (console, wallboard, /metrics, /healthz), sent raw:
answered with a status below 500 or the connection closed, the server keeps serving, and no
request without the session's CSRF token changes a callback."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from monitor.core.accounts import Role
from monitor.core.bad_input import BadInputLog
from monitor.core.charter import load_charter
from monitor.core.metrics import create_call_metrics
from monitor.core.records import Callback, CallbackStatus
from monitor.live.console import Console, ConsoleSettings, console_routes
from monitor.live.console.accounts import add_account
from monitor.live.http_server import MAX_BODY_BYTES, MonitorHttpServer
from monitor.live.wallboard import Wallboard
from monitor.store import open_store
from tests.support.fuzz_examples import examples

PASSWORD = "correct horse battery"


@dataclass
class Served:
    port: int
    session_cookie: str
    db_url: str
    registry: CollectorRegistry


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    """The monitor's HTTP server with console and wallboard, in a thread of its own, with a
    help-desk user logged in (so the fuzz reaches the pages behind the login too)."""
    with tempfile.TemporaryDirectory() as folder:
        db_url = f"sqlite:///{Path(folder) / 'http-fuzz.db'}"
        store = open_store(db_url)
        add_account(store, "siti", Role.HELP_DESK, PASSWORD)
        now = datetime.now(UTC)
        store.save_callback(Callback(
            pbx="unit", callback_id="cb1", call_id="c1", officer="Encik Rahman",
            department="lesen", caller_name="Puan Aminah", contacted_at=now,
            caller_number="0123456789", matter="voicemail", due_at=now + timedelta(hours=23)))
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        holder: dict[str, object] = {}
        registry = CollectorRegistry()
        metrics = create_call_metrics(registry)

        async def serve() -> None:
            console = Console(ConsoleSettings(pbx="unit", timezone=ZoneInfo("UTC"),
                                              login_slow_seconds=0.0), store=lambda: store)
            wallboard = Wallboard(registry, charter=load_charter())
            wallboard.begin()
            http = MonitorHttpServer(registry=registry, health=lambda: {"ok": True},
                                     pages=wallboard.pages(), routes=console_routes(console),
                                     middlewares=[console.guard],
                                     bad_input=BadInputLog(counter=metrics.bad_input, pbx="unit",
                                                           logger=logging.getLogger("test.http")))
            await http.start("127.0.0.1", 0)
            base = f"http://127.0.0.1:{http.port}"
            jar = aiohttp.CookieJar(unsafe=True)
            async with aiohttp.ClientSession(cookie_jar=jar) as client:
                async with client.get(f"{base}/login") as response:
                    token = re.search(r'name="csrf_token" value="([^"]+)"',
                                      await response.text())
                assert token is not None
                async with client.post(f"{base}/login", data={
                        "username": "siti", "password": PASSWORD,
                        "csrf_token": token.group(1)}) as response:
                    assert response.status == 200
            cookies = "; ".join(f"{c.key}={c.value}" for c in jar)
            holder.update(http=http, port=http.port, cookie=cookies)
            ready.set()

        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()
        asyncio.run_coroutine_threadsafe(serve(), loop).result(30)
        ready.wait(30)
        yield Served(port=int(str(holder["port"])), session_cookie=str(holder["cookie"]),
                     db_url=db_url, registry=registry)
        http = holder["http"]
        assert isinstance(http, MonitorHttpServer)
        asyncio.run_coroutine_threadsafe(http.close(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        store.close()


PATHS = ["/", "/login", "/logout", "/callbacks", "/callbacks?show=closed", "/callbacks?show=%ff",
         "/callbacks/cb1/close", "/callbacks/cb1/voicemail", "/callbacks/../../etc/passwd/close",
         "/callbacks/%00/voicemail", "/metrics", "/metrics?name[]=%zz", "/healthz",
         "/wallboard", "/wallboard.json", "//", "/" + "a" * 9000, "*", "http://evil/"]
METHODS = ["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE", "CONNECT", "G\x00T",
           "PRI", "get"]
HEADERS = ["Content-Type: application/x-www-form-urlencoded", "Content-Type: multipart/form-data",
           "Content-Type: multipart/form-data; boundary=x", "Content-Type: text/plain; charset=zz",
           "Origin: http://evil.example", "Origin: null", "Accept: application/openmetrics-text",
           "Accept: */*;q=nan", "Accept-Encoding: gzip", "Transfer-Encoding: chunked",
           "Transfer-Encoding: gzip, chunked", "Content-Length: -1", "Content-Length: 99999999",
           "Content-Length: 5", "Cookie: callsla_session=forged", "Cookie: =;;;=", "Host:",
           "Host: a\x00b", "X-Forwarded-For: 1.2.3.4", "Expect: 100-continue",
           "Cookie: " + "c" * 9000, "Referer: http://evil/", "Range: bytes=9-1",
           "Upgrade: websocket", "Connection: upgrade"]
BODIES = ["", "csrf_token=forged&action_taken=x&caller_informed_at=2026-01-01",
          "username=siti&password=x&csrf_token=", "0\r\n\r\n", "zz\r\nbad chunk\r\n",
          "a=" + "%" * 500, "\xff\xfe", "--x\r\nContent-Disposition: form-data; name=a\r\n\r\n"]


@st.composite
def raw_requests(draw: st.DrawFn) -> bytes:
    method = draw(st.one_of(st.sampled_from(METHODS), st.text(max_size=8)))
    path = draw(st.one_of(st.sampled_from(PATHS), st.text(max_size=40).map(lambda t: "/" + t)))
    version = draw(st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/9", ""]))
    headers = draw(st.lists(st.one_of(st.sampled_from(HEADERS), st.text(max_size=30)),
                            max_size=5))
    body = draw(st.one_of(st.sampled_from(BODIES), st.text(max_size=100)))
    head = f"{method} {path} {version}\r\nHost: 127.0.0.1\r\n" + "".join(
        f"{h}\r\n" for h in headers)
    return (head + "Connection: close\r\n\r\n" + body).encode("utf-8", "surrogatepass")


def exchange(port: int, request: bytes, *, cookie: str = "") -> bytes:
    """Send one raw request (the session's cookie added when given); the first reply line."""
    if cookie:
        request = request.replace(b"\r\nHost: 127.0.0.1\r\n",
                                  f"\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n".encode(), 1)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        sock.settimeout(0.3)
        reply = b""
        while b"\r\n" not in reply:
            try:
                chunk = sock.recv(4096)
            except TimeoutError:  # waiting for a body it was promised: end the request
                sock.settimeout(5)
                sock.shutdown(socket.SHUT_WR)
                continue
            if not chunk:
                break
            reply += chunk
    return reply.split(b"\r\n", 1)[0]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture],
          max_examples=examples(250),
          deadline=None)
@given(raw_requests(), st.booleans())
def test_any_request_is_answered_below_500_and_never_closes_a_callback(
        served: Served, request: bytes, logged_in: bool) -> None:
    try:
        first = exchange(served.port, request, cookie=served.session_cookie if logged_in else "")
    except (ConnectionResetError, BrokenPipeError):
        event("connection reset")
        return
    if not first:
        event("closed without a reply")
        return
    status = re.match(rb"HTTP/\d\.\d (\d{3}) ", first)
    assert status is not None, first
    code = int(status.group(1))
    event(f"status {code // 100}xx")
    assert code < 500, (request[:300], first)


def test_after_the_fuzz_it_still_serves_and_the_callback_is_open(served: Served) -> None:
    ok = exchange(served.port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                               b"Connection: close\r\n\r\n")
    assert ok.startswith(b"HTTP/1.1 200")
    with open_store(served.db_url) as store:
        (callback,) = store.callbacks(pbx="unit")
    assert callback.status is CallbackStatus.OPEN


def test_a_huge_body_is_refused_with_413(served: Served) -> None:
    body = b"a=" + b"x" * (MAX_BODY_BYTES + 10)
    first = exchange(served.port, b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\n"
                     + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                     + body)
    assert first.startswith(b"HTTP/1.1 413")


def test_malformed_requests_are_counted_and_logged_once_without_a_traceback(
        served: Served, caplog: pytest.LogCaptureFixture) -> None:
    def bad_requests() -> float:
        return sum(s.value for f in served.registry.collect() for s in f.samples
                   if s.name == "callsla_monitor_bad_input_total")

    before = bad_requests()
    caplog.set_level(logging.DEBUG)
    for n in range(50):
        first = exchange(served.port, f"GET /\x01{n} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                      "Connection: close\r\n\r\n".encode())
        assert b" 400 " in first
    assert bad_requests() == before + 50
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert len([r for r in caplog.records if r.name == "test.http"]) <= 1
