"""`callsla services install`: the monitor's and the agi-server's systemd units (packaged in
pbx_setup/systemd/), written with this installation's `callsla` path, and an environment file
for each, created mode 0600 because it holds an AMI secret."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

UNITS_DIR = Path(__file__).resolve().parent / "systemd"
# service name -> its environment file's name
SERVICES = {"callsla-monitor": "monitor.env", "callsla-agi-server": "agi-server.env"}
# ProtectHome=yes hides these from the services: a callsla installed there cannot start.
_HIDDEN_BY_PROTECT_HOME = (Path("/home"), Path("/root"), Path("/run/user"))


@dataclass(frozen=True, kw_only=True)
class ServiceTarget:
    """Where the units and their environment files go, and the `callsla` they start."""

    unit_dir: Path = Path("/etc/systemd/system")
    env_dir: Path = Path("/etc/callsla")
    callsla: Path = Path(sys.executable).parent / "callsla"  # this installation's command


class ServiceInstallError(ValueError):
    """The units could not start as asked; the message says why and what to do."""


def render_unit(service: str, target: ServiceTarget) -> str:
    """The packaged unit with this installation's `callsla` and environment folder in it."""
    text = (UNITS_DIR / f"{service}.service").read_text("utf-8")
    return text.replace("@@CALLSLA@@", str(target.callsla)).replace(
        "@@ENV_DIR@@", str(target.env_dir))


def _check_target(target: ServiceTarget) -> None:
    if not target.callsla.is_absolute() or not os.access(target.callsla, os.X_OK):
        raise ServiceInstallError(f"--callsla: {target.callsla} is not an executable "
                                  "absolute path (the `callsla` of a venv such as /opt/callsla)")
    if any(target.callsla.is_relative_to(hidden) for hidden in _HIDDEN_BY_PROTECT_HOME):
        raise ServiceInstallError(
            f"{target.callsla} is under a home folder, which the units' ProtectHome=yes hides: "
            "install callsla outside /home and /root (python3 -m venv /opt/callsla)")


def install_services(target: ServiceTarget, *, dry_run: bool = False) -> list[str]:
    """Write (or, dry, describe) the units and the missing environment files; one line each."""
    _check_target(target)
    report = []
    for service, env_name in SERVICES.items():
        unit = target.unit_dir / f"{service}.service"
        text = render_unit(service, target)
        if unit.exists() and unit.read_text("utf-8") == text:
            report.append(f"unchanged: {unit}")
        else:
            report.append(f"{'would write' if dry_run else 'wrote'}: {unit}")
            if not dry_run:
                target.unit_dir.mkdir(parents=True, exist_ok=True)
                unit.write_text(text, "utf-8")
        report.append(_env_file(target.env_dir / env_name, dry_run=dry_run))
    return report


def _env_file(path: Path, *, dry_run: bool) -> str:
    """A commented template, 0600 from its creation; a site's file is kept, made 0600."""
    if path.exists():
        mode = path.stat().st_mode & 0o777
        if not mode & 0o077:
            return f"kept: {path}"
        if not dry_run:
            path.chmod(0o600)
        return (f"kept: {path} ({'would make' if dry_run else 'made'} it 0600: it was "
                f"{mode:04o}, readable by others)")
    if dry_run:
        return f"would write: {path} (mode 0600, every setting commented out)"
    path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write((UNITS_DIR / path.name).read_text("utf-8"))
    return f"wrote: {path} (mode 0600; fill in the settings)"
