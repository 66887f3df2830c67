"""`callsla monitor` with no AMI and no MQTT, for console tests whose records are put in the
store: on a free port, its log in the test's folder, stopped afterwards."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def store_only_monitor(db_url: str, folder: Path,
                       ready: Callable[[str], bool]) -> Iterator[str]:
    """Yields the monitor's base URL once `ready(base)` (tried for 30 s; OSError: not yet)."""
    port = _free_port()
    env = {**os.environ, "CALLSLA_DB_URL": db_url, "CALLSLA_PBX": "lab",
           "CALLSLA_METRICS_ADDR": f"127.0.0.1:{port}"}
    env.pop("CALLSLA_AMI_URL", None)
    env.pop("CALLSLA_MQTT_URL", None)
    with (folder / "monitor.log").open("ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "monitor", "monitor"], env=env,
                                stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if ready(base):
                    break
            except OSError:
                pass
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)
