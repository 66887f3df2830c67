"""Background services of the lab: started with a pid file, stopped with nothing left behind."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

log = logging.getLogger(__name__)


class LabStartError(RuntimeError):
    """A lab service did not come up; the message is one line with the reason."""


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll `check` every 50 ms; return the seconds it took or raise LabStartError."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise LabStartError(f"{what} not ready after {timeout:.0f} s")
        time.sleep(0.05)
    return time.monotonic() - started


class ManagedProcess:
    """One service process in its own session, so stopping it stops its children too."""

    def __init__(self, name: str, run_dir: Path, *,
                 stop_signal: signal.Signals = signal.SIGTERM) -> None:
        self.name = name
        self.stop_signal = stop_signal
        self.pidfile = run_dir / f"{name}.pid"
        self.logfile = run_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, argv: Sequence[str], *, env: dict[str, str] | None = None,
              user: str | None = None) -> None:
        self.kill_leftover()
        self.pidfile.parent.mkdir(parents=True, exist_ok=True)
        cmd = list(argv)
        if user is not None:
            cmd = ["runuser", "-u", user, "--", *cmd]
        with self.logfile.open("ab") as out:
            self.process = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, env={**os.environ, **(env or {})},
            )
        self.pidfile.write_text(str(self.process.pid))
        log.info("%s started (pid %s)", self.name, self.process.pid)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 3) -> str:
        try:
            text = self.logfile.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " | ".join(text[-lines:])

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None:
            self.kill_leftover()
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, self.stop_signal)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self.process = None
        self.pidfile.unlink(missing_ok=True)
        log.info("%s stopped", self.name)

    def kill_leftover(self) -> None:
        """A pid file left by a crashed run names a process group to end before starting again."""
        try:
            pid = int(self.pidfile.read_text())
        except (OSError, ValueError):
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
            log.warning("killed leftover %s (pid %s)", self.name, pid)
        self.pidfile.unlink(missing_ok=True)
