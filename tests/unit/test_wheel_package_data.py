"""What a site gets from `pip install` of the wheel, not a checkout (issue 14, item 1): from a
folder outside the checkout, `callsla prompts build`, `callsla pbx install --dry-run` and
`callsla services install --dry-run` find the packaged directory of officers, prompt texts,
Asterisk templates and systemd units. Dependencies come from this checkout's venv through a
.pth line (which activates no editable install); the build backend (setuptools) comes from
pip's cache, filled by `make setup`. About 15 s, most of it the build."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import pytest

from lab.config import LabConfig

CHECKOUT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class InstalledWheel:
    venv: Path
    away: Path  # the working folder: outside the checkout, empty at first

    @property
    def site_packages(self) -> Path:
        return next((self.venv / "lib").glob("python3.*/site-packages"))

    def run(self, *argv: str, env: dict[str, str] | None = None) -> str:
        clean = {k: v for k, v in os.environ.items()
                 if not k.startswith(("CALLSLA_", "PYTHON", "VIRTUAL_ENV"))}
        result = subprocess.run([str(self.venv / "bin" / argv[0]), *argv[1:]], cwd=self.away,
                                env={**clean, **(env or {})}, capture_output=True, text=True,
                                check=False, timeout=120)
        assert result.returncode == 0, result.stderr
        return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> InstalledWheel:
    """The checkout's tracked files built into a wheel, installed into a fresh venv."""
    base = tmp_path_factory.mktemp("wheel")
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=CHECKOUT, capture_output=True,
                             check=True).stdout.decode().split("\0")
    for name in filter(None, tracked):
        source = CHECKOUT / name
        if source.is_file():  # a tracked file deleted in the working tree is not built
            (base / "src" / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, base / "src" / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                    str(base / "dist"), str(base / "src")], check=True, capture_output=True)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"),
                    "install", "--no-deps", "-q", *map(str, (base / "dist").glob("*.whl"))],
                   check=True, capture_output=True)
    installed = InstalledWheel(venv, base / "away")
    installed.away.mkdir()
    (installed.site_packages / "checkout-dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n")
    return installed


def test_the_packages_are_imported_from_the_wheel_not_the_checkout(
        wheel: InstalledWheel) -> None:
    code = ("import agi_scripts, asterisk_conf, monitor, pbx_setup; "
            "from monitor.core.directory import directory_path; "
            "from agi_scripts.prompts import texts_path; "
            "from pbx_setup.service_units import UNITS_DIR; "
            "print(asterisk_conf.__file__, monitor.__file__, agi_scripts.__file__, "
            "pbx_setup.__file__, directory_path(), texts_path(), UNITS_DIR, sep='\\n')")
    paths = [Path(line) for line in wheel.run("python", "-c", code).splitlines()]
    assert len(paths) == 7
    for path in paths:
        assert path.is_relative_to(wheel.site_packages), path
        assert path.exists(), path


def test_prompts_build_finds_the_packaged_texts_and_directory(wheel: InstalledWheel) -> None:
    # The lab's cache of builds (keyed by the texts read): a hit still reads both files.
    cache = LabConfig.from_env().cache_dir
    out = wheel.run("callsla", "prompts", "build", "--out", "prompts",
                    env={"CALLSLA_PROMPT_CACHE": str(cache)})
    assert out.strip() == "prompts written to prompts"
    for lang in ("ms", "en"):
        names = {p.name for p in (wheel.away / "prompts" / lang).glob("*.wav")}
        assert {"frontdesk_status.wav", "officer-2101.wav", "num-99.wav"} <= names


def test_pbx_install_dry_run_finds_the_packaged_configuration(wheel: InstalledWheel) -> None:
    out = wheel.run("callsla", "pbx", "install", "--etc", "etc", "--dry-run", "--no-prompts")
    for name in ("extensions.conf", "queues.conf", "musiconhold.conf", "manager.conf"):
        assert f"create: etc/{name}" in out
    assert "would write skeleton: etc/local/manager-users.conf" in out
    assert not (wheel.away / "etc").exists()


def test_services_install_dry_run_finds_the_packaged_units(wheel: InstalledWheel) -> None:
    out = wheel.run("callsla", "services", "install", "--unit-dir", "units", "--env-dir", "env",
                    "--callsla", str(wheel.venv / "bin" / "callsla"), "--dry-run")
    assert "would write: units/callsla-monitor.service" in out
    assert "would write: env/agi-server.env (mode 0600, every setting commented out)" in out
