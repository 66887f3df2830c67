"""The whole lab as one object: start the parts in order, stop them all, time each."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from lab.chroot import ensure_chroot
from lab.config import LabConfig
from lab.pbx import AsteriskPbx
from lab.processes import LabStartError
from lab.services import Mosquitto, Postgres, Prometheus
from lab.sip.leftovers import kill_leftover_phones

log = logging.getLogger(__name__)

ALL_PARTS = ("asterisk", "mosquitto", "prometheus", "postgres")


class Lab:
    """A real PBX with its broker, Prometheus and database, on loopback."""

    def __init__(self, config: LabConfig | None = None, *,
                 rule_files: list[Path] | None = None,
                 metrics_ports: list[int] | None = None) -> None:
        self.config = config or LabConfig.from_env()
        self.timings: dict[str, float] = {}
        self.pbx: AsteriskPbx | None = None
        self.mosquitto = Mosquitto(self.config)
        self.prometheus = Prometheus(self.config, rule_files, metrics_ports=metrics_ports)
        self.postgres = Postgres(self.config)

    def start(self, parts: tuple[str, ...] = ALL_PARTS) -> dict[str, float]:
        """Start the named parts; on any failure stop what started and raise LabStartError."""
        started = time.monotonic()
        self.config.lab_dir.mkdir(parents=True, exist_ok=True)
        try:
            if "asterisk" in parts:
                t0 = time.monotonic()
                root = ensure_chroot(self.config.cache_dir)
                self.timings["chroot"] = time.monotonic() - t0
                self.pbx = AsteriskPbx(self.config, root)
                self.timings["asterisk"] = self.pbx.start()
            if "mosquitto" in parts:
                self.timings["mosquitto"] = self.mosquitto.start()
            if "prometheus" in parts:
                self.timings["prometheus"] = self.prometheus.start()
            if "postgres" in parts:
                self.timings["postgres"] = self.postgres.start()
        except Exception as exc:
            self.stop()
            if isinstance(exc, LabStartError):
                raise
            raise LabStartError(f"{type(exc).__name__}: {exc}") from exc
        self.timings["total"] = time.monotonic() - started
        log.info("lab up in %.1f s: %s", self.timings["total"],
                 ", ".join(f"{k} {v:.1f} s" for k, v in self.timings.items()))
        return self.timings

    def stop(self) -> None:
        kill_leftover_phones(self.config)  # SIPp phones a killed test left running
        if self.pbx is not None:
            self.pbx.stop()
        self.mosquitto.stop()
        self.prometheus.stop()
        self.postgres.stop()
