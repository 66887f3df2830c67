"""Baseline for bench_status_interval: the same status loop, one thread per call, with pyst2.

pyst2's `AGI` reads the environment and sends commands over text files, so it runs on a
FastAGI socket's `makefile()`. Its constructor installs a SIGHUP handler, which Python only
allows in the main thread: the baseline swaps the module's `signal` for a no-op to run it in
the threads of a `socketserver.ThreadingTCPServer` (pyst2's own `fastagi` module does not import
on Python 3).
"""

from __future__ import annotations

import os
import signal
import socketserver
import sys
import threading
import time
import types
from collections import defaultdict

import asterisk.agi as pyst2_agi

from agi_scripts.prompts import status_message

pyst2_agi.signal = types.SimpleNamespace(signal=lambda *_: None, SIGHUP=signal.SIGHUP)
INTERVAL = 20.0
LINES: dict[str, list[str]] = defaultdict(list)
LOCK = threading.Lock()


class StatusLoop(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        with open(os.devnull, "w") as quiet:  # pyst2 logs every command to stderr
            agi = pyst2_agi.AGI(stdin=self.request.makefile("r", encoding="utf-8"),
                                stdout=self.request.makefile("w", encoding="utf-8"),
                                stderr=quiet)
            me = agi.env.get("agi_uniqueid", "")
            extension = agi.env.get("agi_arg_1", "")
            with LOCK:
                LINES[extension].append(me)
            try:
                self.loop(agi, extension, me)
            except Exception:
                pass
            finally:
                with LOCK:
                    LINES[extension].remove(me)

    def loop(self, agi: pyst2_agi.AGI, extension: str, me: str) -> None:
        prompts = agi.get_full_variable("${CALLSLA_PROMPTS}")
        language = agi.get_full_variable("${CHANNEL(language)}")
        agi.answer()
        first = time.monotonic()
        announced = 0
        while True:
            now = time.monotonic()
            due = first + announced * INTERVAL
            if now >= due - 0.002:
                with LOCK:
                    position = LINES[extension].index(me) + 1
                agi.execute("SET MUSIC", "OFF")
                for name in status_message(position, now - first, recovery=False):
                    agi.stream_file(f"{prompts}/{language}/{name}", escape_digits="10")
                agi.execute("SET MUSIC", "ON", "default")
                announced += 1
                continue
            agi.wait_for_digit(timeout=max(1, int(min(0.5, due - now) * 1000)))


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024


if __name__ == "__main__":
    with Server(("127.0.0.1", int(sys.argv[1])), StatusLoop) as server:
        server.serve_forever()
