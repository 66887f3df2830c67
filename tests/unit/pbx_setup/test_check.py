"""`callsla pbx check` against a real installed etc/ (the installer's own output), each test
breaking one thing on purpose: the check must name that problem, as an error."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from agi_scripts.prompts import LANGUAGES, load_texts
from pbx_setup.check import PbxFiles, Severity, check_files
from pbx_setup.installer import InstallTarget, install
from pbx_setup.music_on_hold import write_soft_tone


@pytest.fixture
def fastagi() -> Iterator[int]:
    """Something listening where the dialplan's CALLSLA_AGI points (the check only connects)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


@pytest.fixture
def site(tmp_path: Path, fastagi: int) -> PbxFiles:
    """A site as `callsla pbx install` leaves it, plus what Asterisk itself would add."""
    etc, log, data = tmp_path / "etc", tmp_path / "log", tmp_path / "share"
    install(InstallTarget(etc=etc, moh=data / "moh", log_dir=log))
    (etc / "asterisk.conf").write_text("[options]\ntransmit_silence = yes\n")
    (etc / "local/globals.conf").write_text(f"CALLSLA_AGI = agi://127.0.0.1:{fastagi}\n")
    (etc / "local/pjsip.conf").write_text("[trunk]\ntype = endpoint\ncontext = from-pstn\n")
    (log / "queue_log").write_text("")
    for lang, texts in load_texts().items():  # stand-ins for the spoken prompts
        for key in texts:
            write_soft_tone(data / "sounds/callsla" / lang / f"{key}.wav", seconds=0.01)
    return PbxFiles(etc=etc, log_dir=log, data_dir=data, sounds=data / "sounds")


def _errors(site: PbxFiles) -> dict[str, str]:
    return {p.check: p.what for p in check_files(site) if p.severity is Severity.ERROR}


def test_the_installed_site_is_clean(site: PbxFiles) -> None:
    assert check_files(site) == []


def test_no_timestampevents(site: PbxFiles) -> None:
    manager = site.etc / "manager.conf"
    manager.write_text(manager.read_text().replace("timestampevents = yes", ""))
    assert "PBX time" in _errors(site)["timestampevents"]


def test_an_empty_music_class(site: PbxFiles) -> None:
    (site.etc / "local/musiconhold.conf").write_text(
        f"[agency]\nmode = files\ndirectory = {site.data_dir / 'moh-agency'}\n")
    (site.data_dir / "moh-agency").mkdir()
    assert "'agency'" in _errors(site)["music-on-hold"]


def test_an_ami_user_with_too_many_rights(site: PbxFiles) -> None:
    (site.etc / "local/manager-users.conf").write_text(
        "[callsla-monitor]\nsecret = x\nread = call,agent\nwrite = originate,command\n")
    assert "'callsla-monitor' may write command,originate" in _errors(site)["ami-rights"]


def test_a_least_rights_user_passes(site: PbxFiles) -> None:
    (site.etc / "local/manager-users.conf").write_text(
        "[callsla-monitor]\nread = call,agent,user,dialplan,cdr,reporting\nwrite =\n"
        "[callsla-agi]\nwrite = call\n[callsla-officer]\nwrite = system\n")
    assert "ami-rights" not in _errors(site)


def test_a_part_s_user_with_more_rights_than_it_needs_is_a_warning(site: PbxFiles) -> None:
    (site.etc / "local/manager-users.conf").write_text(
        "[callsla-monitor]\nread = call\nwrite = reporting,call,system\n"
        "[callsla-agi]\nwrite = call\n")
    site = dataclasses.replace(site, part_users={"monitor": "callsla-monitor",
                                                 "agi-server": "callsla-agi"})
    found = [p for p in check_files(site) if p.check == "ami-rights"]
    assert [(p.severity, p.fix) for p in found] == [
        ("warning", "manager.conf [callsla-monitor]: write = reporting,user")]
    assert "may also write call,system" in found[0].what


def test_a_missing_queue_log(site: PbxFiles) -> None:
    (site.log_dir / "queue_log").unlink()
    assert "does not exist" in _errors(site)["queue_log"]


def test_queue_log_turned_off(site: PbxFiles) -> None:
    logger = site.etc / "logger.conf"
    logger.write_text(logger.read_text().replace("queue_log = yes", "queue_log = no"))
    assert "off" in _errors(site)["queue_log"]


def test_no_cdr_folder(site: PbxFiles) -> None:
    (site.log_dir / "cdr-csv").rmdir()
    assert "cdr-csv" in _errors(site)["cdr"]


def test_missing_prompts(site: PbxFiles) -> None:
    for wav in (site.sounds / "callsla" / LANGUAGES[0]).glob("*.wav"):
        wav.unlink()
    assert "ms prompts missing" in _errors(site)["prompts"]


def test_fastagi_unreachable(site: PbxFiles) -> None:
    (site.etc / "local/globals.conf").write_text("CALLSLA_AGI = agi://127.0.0.1:1\n")
    assert "not reachable" in _errors(site)["fastagi"]


def test_a_removed_queue_keyword_and_a_wrong_servicelevel(site: PbxFiles) -> None:
    queues = site.etc / "queues.conf"
    queues.write_text(queues.read_text().replace("servicelevel = 10",
                                                 "servicelevel = 20\neventwhencalled = yes"))
    found = {p.check: p.what for p in check_files(site)}
    assert "eventwhencalled" in found["unknown-keyword"]
    assert "servicelevel is 20" in found["servicelevel"]
