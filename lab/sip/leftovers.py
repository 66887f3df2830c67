"""Where the lab's SIPp processes keep their pid files, and ending those a killed run left."""

from __future__ import annotations

from pathlib import Path

from lab.config import LabConfig
from lab.processes import ManagedProcess


def sip_run_dir(config: LabConfig) -> Path:
    return config.lab_dir / "run" / "sip"


def kill_leftover_phones(config: LabConfig) -> None:
    """End SIPp processes a killed run left behind: every pid file names a process group."""
    folder = sip_run_dir(config)
    for pidfile in folder.glob("*.pid") if folder.exists() else ():
        ManagedProcess(pidfile.stem, folder).kill_leftover()
