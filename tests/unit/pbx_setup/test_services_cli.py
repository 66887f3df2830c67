"""`callsla services install`: flags and environment variables pick the folders; a callsla the
units could not start is one line on stderr and exit 2, with nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.cli.main import main


def test_the_environment_picks_the_folders_and_the_flag_wins(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    callsla = tmp_path / "opt/bin/callsla"
    callsla.parent.mkdir(parents=True)
    callsla.write_text("#!/bin/sh\n")
    callsla.chmod(0o755)
    monkeypatch.setenv("CALLSLA_UNIT_DIR", str(tmp_path / "units"))
    monkeypatch.setenv("CALLSLA_ENV_DIR", str(tmp_path / "ignored"))
    monkeypatch.setenv("CALLSLA_COMMAND", str(callsla))
    assert main(["services", "install", "--env-dir", str(tmp_path / "env")]) == 0
    assert sorted(p.name for p in (tmp_path / "units").iterdir()) == [
        "callsla-agi-server.service", "callsla-monitor.service"]
    assert sorted(p.name for p in (tmp_path / "env").iterdir()) == ["agi-server.env",
                                                                     "monitor.env"]
    assert not (tmp_path / "ignored").exists()
    assert "systemctl enable --now callsla-monitor callsla-agi-server" in capsys.readouterr().out


def test_a_callsla_under_root_is_one_line_and_exit_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["services", "install", "--unit-dir", str(tmp_path), "--env-dir",
                 str(tmp_path), "--callsla", "/root/venv/bin/callsla"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("callsla: --callsla: /root/venv/bin/callsla is not an executable")
    assert list(tmp_path.iterdir()) == []
