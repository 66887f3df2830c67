"""dpkg's conffile md5sums name the files of /etc/asterisk that are still Debian's samples."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pbx_setup.stock_conffiles import retire_samples, stock_digests

STATUS = """\
Package: asterisk-config
Status: install ok installed
Conffiles:
 /etc/asterisk/queues.conf a7cfa59088a98775f17312914d50d3a0
 /etc/asterisk/old.conf 0123456789abcdef0123456789abcdef obsolete
 /etc/asterisk/sub/x.conf 11111111111111111111111111111111
Description: config
 /etc/asterisk/not-a-conffile.conf 22222222222222222222222222222222

Package: logrotate
Conffiles:
 /etc/logrotate.conf 33333333333333333333333333333333
"""


def test_only_current_conffiles_of_etc_asterisk_count(tmp_path: Path) -> None:
    status = tmp_path / "status"
    status.write_text(STATUS)
    assert stock_digests(status) == {"queues.conf": "a7cfa59088a98775f17312914d50d3a0"}


def test_a_system_without_dpkg_has_no_stock_files(tmp_path: Path) -> None:
    assert stock_digests(tmp_path / "missing") == {}


def test_an_untouched_users_conf_is_retired_and_a_sites_own_stays(tmp_path: Path) -> None:
    (tmp_path / "users.conf").write_text("; sample\n")
    stock = {"users.conf": hashlib.md5(b"; sample\n").hexdigest()}
    assert retire_samples(tmp_path, stock, dry_run=True)[0].startswith("would retire: ")
    assert (tmp_path / "users.conf").exists()
    assert retire_samples(tmp_path, stock)[0].startswith(f"retired: {tmp_path}/users.conf")
    assert (tmp_path / "users.conf.callsla-orig").read_text() == "; sample\n"
    (tmp_path / "users.conf").write_text("[6001]\n")
    assert retire_samples(tmp_path, stock) == []
    assert (tmp_path / "users.conf").read_text() == "[6001]\n"
