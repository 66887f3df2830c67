"""The installer never overwrites what a site changed, and a dry run writes nothing."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from pbx_setup.conf_plan import ConfAction, apply_conf, packaged_conf_files, plan_conf
from pbx_setup.installer import InstallTarget, install


def _actions(etc: Path, packaged: dict[str, str]) -> dict[str, ConfAction]:
    return {s.name: s.action for s in plan_conf(etc, packaged)}


def test_create_then_unchanged_then_update_then_kept(tmp_path: Path) -> None:
    packaged = {"queues.conf": "a\n", "manager.conf": "m\n"}
    assert set(_actions(tmp_path, packaged).values()) == {ConfAction.CREATE}
    apply_conf(tmp_path, plan_conf(tmp_path, packaged))
    assert set(_actions(tmp_path, packaged).values()) == {ConfAction.UNCHANGED}
    newer = {"queues.conf": "b\n", "manager.conf": "m2\n"}
    (tmp_path / "manager.conf").write_text("site's own\n")
    steps = plan_conf(tmp_path, newer)
    assert {s.name: s.action for s in steps} == {"queues.conf": ConfAction.UPDATE,
                                                  "manager.conf": ConfAction.KEPT}
    apply_conf(tmp_path, steps)
    assert (tmp_path / "queues.conf").read_text() == "b\n"
    assert (tmp_path / "manager.conf").read_text() == "site's own\n"
    assert (tmp_path / "manager.conf.callsla-new").read_text() == "m2\n"


def test_a_dry_run_shows_the_diff_and_writes_nothing(tmp_path: Path) -> None:
    etc = tmp_path / "etc"
    install(InstallTarget(etc=etc))
    queues = etc / "queues.conf"
    queues.write_text(queues.read_text().replace("servicelevel = 10", "servicelevel = 15"))
    before = sorted(p.name for p in etc.rglob("*"))
    report = install(InstallTarget(etc=etc, moh=tmp_path / "moh", log_dir=tmp_path / "log"),
                     dry_run=True)
    text = "\n".join(report)
    assert f"kept: {queues}" in text
    assert "-servicelevel = 15\n+servicelevel = 10" in text
    assert "would write callsla-soft-tone.wav" in text
    assert sorted(p.name for p in etc.rglob("*")) == before
    assert not (tmp_path / "moh").exists()


def test_skeletons_are_written_once_and_never_overwritten(tmp_path: Path) -> None:
    install(InstallTarget(etc=tmp_path))
    users = tmp_path / "local/manager-users.conf"
    assert "write = call" in users.read_text()  # the agi-server's least rights, commented
    assert users.stat().st_mode & 0o777 == 0o640
    users.write_text("[mine]\n")
    install(InstallTarget(etc=tmp_path))
    assert users.read_text() == "[mine]\n"


def test_every_packaged_file_is_an_asterisk_conf() -> None:
    names = packaged_conf_files()
    assert {"modules.conf", "queues.conf", "musiconhold.conf", "indications.conf"} <= set(names)
    assert all(name.endswith(".conf") for name in names)


def test_a_distribution_sample_is_replaced_and_kept_beside(tmp_path: Path) -> None:
    (tmp_path / "queues.conf").write_text("; Debian's sample\n")
    (tmp_path / "manager.conf").write_text("; the site's own\n")
    stock = {"queues.conf": hashlib.md5(b"; Debian's sample\n").hexdigest(),
             "manager.conf": hashlib.md5(b"; Debian's sample\n").hexdigest()}
    packaged = {"queues.conf": "ours\n", "manager.conf": "ours\n"}
    steps = plan_conf(tmp_path, packaged, stock)
    assert {s.name: s.action for s in steps} == {"queues.conf": ConfAction.REPLACE_STOCK,
                                                  "manager.conf": ConfAction.KEPT}
    apply_conf(tmp_path, steps)
    assert (tmp_path / "queues.conf").read_text() == "ours\n"
    assert (tmp_path / "queues.conf.callsla-orig").read_text() == "; Debian's sample\n"
    assert (tmp_path / "manager.conf").read_text() == "; the site's own\n"
    assert set(_actions(tmp_path, packaged).values()) == {ConfAction.UNCHANGED, ConfAction.KEPT}


def test_secret_skeletons_and_cdr_csv_belong_to_asterisks_group_and_user(
        tmp_path: Path) -> None:
    etc, log = tmp_path / "etc", tmp_path / "log"
    etc.mkdir()
    log.mkdir()
    asterisk = 65534  # stands for Debian's asterisk user and group, owner of etc/ and log/
    os.chown(etc, 0, asterisk)
    os.chown(log, asterisk, asterisk)
    install(InstallTarget(etc=etc, log_dir=log))
    users = (etc / "local" / "manager-users.conf").stat()
    assert (users.st_mode & 0o777, users.st_gid) == (0o640, asterisk)
    cdr = (log / "cdr-csv").stat()
    assert (cdr.st_uid, cdr.st_gid) == (asterisk, asterisk)
