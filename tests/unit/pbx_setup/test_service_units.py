"""The monitor's and the agi-server's systemd units: `systemd-analyze verify` accepts them as
written for this installation, their exposure stays low, and the environment files holding
AMI secrets are 0600 from their creation."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pbx_setup.service_units import (
    SERVICES,
    ServiceInstallError,
    ServiceTarget,
    install_services,
    render_unit,
)

# `systemd-analyze security` exposure (0 safest, 10 none); both measured at 1.2.
MAX_EXPOSURE = 2.0


def _target(tmp_path: Path) -> ServiceTarget:
    """An installed callsla (systemd-analyze verify wants ExecStart to exist) outside any home
    folder, wherever this checkout is."""
    callsla = tmp_path / "opt/callsla/bin/callsla"
    if not callsla.exists():
        callsla.parent.mkdir(parents=True)
        callsla.write_text("#!/bin/sh\n")
        callsla.chmod(0o755)
    return ServiceTarget(unit_dir=tmp_path / "units", env_dir=tmp_path / "env", callsla=callsla)


def test_systemd_analyze_verifies_both_units_as_installed(tmp_path: Path) -> None:
    install_services(_target(tmp_path))
    units = sorted(str(p) for p in (tmp_path / "units").glob("*.service"))
    assert len(units) == len(SERVICES)
    result = subprocess.run(["systemd-analyze", "verify", *units], capture_output=True,
                            text=True, check=False)
    assert (result.returncode, result.stderr) == (0, "")


@pytest.mark.parametrize("service", SERVICES)
def test_the_units_exposure_stays_low(tmp_path: Path, service: str) -> None:
    install_services(_target(tmp_path))
    unit = tmp_path / "units" / f"{service}.service"
    result = subprocess.run(["systemd-analyze", "security", "--offline=true",
                             f"--threshold={MAX_EXPOSURE * 10:.0f}", str(unit)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout.splitlines()[-1]


@pytest.mark.parametrize("service", SERVICES)
def test_a_unit_runs_this_callsla_as_its_own_user_logging_to_the_journal(
        tmp_path: Path, service: str) -> None:
    target = _target(tmp_path)
    lines = render_unit(service, target).splitlines()
    command = service.removeprefix("callsla-")
    assert f"ExecStart={target.callsla} {command}" in lines
    assert f"EnvironmentFile={tmp_path / 'env' / SERVICES[service]}" in lines
    for setting in ("User=callsla", "Restart=on-failure", "StandardError=journal",
                    "ProtectSystem=strict", "NoNewPrivileges=yes", "CapabilityBoundingSet=",
                    "SystemCallFilter=@system-service", "StateDirectory=callsla"):
        assert setting in lines


def test_environment_files_are_created_0600_and_a_sites_file_is_kept_and_tightened(
        tmp_path: Path) -> None:
    target = _target(tmp_path)
    target.env_dir.mkdir()
    site = target.env_dir / "monitor.env"
    site.write_text("CALLSLA_PBX=hq\n")
    site.chmod(0o644)
    report = install_services(target)
    assert f"kept: {site} (made it 0600: it was 0644, readable by others)" in report
    assert site.read_text() == "CALLSLA_PBX=hq\n"
    written = target.env_dir / "agi-server.env"
    assert f"wrote: {written} (mode 0600; fill in the settings)" in report
    for env in (site, written):
        assert env.stat().st_mode & 0o777 == 0o600
    assert all(line.startswith("#") or not line for line in written.read_text().splitlines())
    assert install_services(target) == [
        f"unchanged: {target.unit_dir}/callsla-monitor.service", f"kept: {site}",
        f"unchanged: {target.unit_dir}/callsla-agi-server.service", f"kept: {written}"]


def test_a_dry_run_writes_nothing(tmp_path: Path) -> None:
    report = install_services(_target(tmp_path), dry_run=True)
    assert report[0] == f"would write: {tmp_path}/units/callsla-monitor.service"
    assert not (tmp_path / "units").exists()
    assert not (tmp_path / "env").exists()


@pytest.mark.parametrize("callsla", ["/root/venv/bin/callsla", "callsla", "/nonexistent/callsla"])
def test_a_callsla_the_units_could_not_start_is_refused(tmp_path: Path, callsla: str) -> None:
    target = ServiceTarget(unit_dir=tmp_path, env_dir=tmp_path, callsla=Path(callsla))
    with pytest.raises(ServiceInstallError, match="callsla"):
        install_services(target)
    assert list(tmp_path.iterdir()) == []
