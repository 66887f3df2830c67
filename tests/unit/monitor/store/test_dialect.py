"""Connecting to PostgreSQL gives up after a timeout: a server that never answers (a hung host,
a firewall that drops packets) must not hold the monitor forever."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from monitor.store import StoreError, _dialect


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts TCP connections (the kernel's backlog does) and never says a word."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def _connect_within(url: str, seconds: float) -> float:
    started = time.monotonic()
    pool = ThreadPoolExecutor(1)
    try:
        attempt = pool.submit(_dialect.connect, url)
        with pytest.raises(StoreError, match="cannot connect to PostgreSQL"):
            attempt.result(timeout=seconds)
    finally:  # a connect without a timeout ends when the fixture closes the server
        pool.shutdown(wait=False)
    return time.monotonic() - started


def test_an_unanswering_postgresql_times_out(silent_server: int,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_dialect, "PG_CONNECT_TIMEOUT_SECONDS", 1)
    took = _connect_within(f"postgresql://callsla@127.0.0.1:{silent_server}/callsla", 6)
    assert 0.9 < took < 5


def test_the_url_s_own_connect_timeout_wins(silent_server: int,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_dialect, "PG_CONNECT_TIMEOUT_SECONDS", 600)
    took = _connect_within(
        f"postgresql://callsla@127.0.0.1:{silent_server}/callsla?connect_timeout=1", 6)
    assert took < 5
